/**
 * A stand-in for the issuer's JWKS endpoint that counts how often the authorizer reaches for it.
 *
 * A plain TCP server counts every incoming connection (each JWKS fetch attempt of aws-jwt-verify
 * opens one; its SimpleFetcher retries a failed attempt once, immediately, on a second
 * connection). What happens next depends on `mode`:
 *
 * - `'reset'`: the connection is dropped at once, so TLS fails: an unreachable or broken issuer.
 * - `'serve'`: the connection is handed to an HTTPS server (a self-signed certificate for
 *   127.0.0.1, made here, trusted through `trustInProcess()`) that answers with `jwks`: a healthy
 *   issuer whose JWKS simply does not hold the requested kid.
 *
 * Start it before the stack (top-level await) and pass `uri` as JWT_JWKS_URI.
 */
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer, globalAgent } from 'node:https';
import { createServer, type AddressInfo, type Socket } from 'node:net';

export interface JwksServer {
  readonly uri: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** HTTPS requests answered so far (only in `'serve'` mode). */
  requests(): number;
  mode: 'reset' | 'serve';
  /** The JWKS served in `'serve'` mode. */
  jwks: unknown;
  /**
   * Makes this process's default HTTPS agent (the one aws-jwt-verify uses) trust the server's
   * certificate; returns the function that undoes it.
   */
  trustInProcess(): () => void;
  close(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const { certificatePem, privateKey } = selfSignedCertificate('127.0.0.1');
  let connections = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const state: { mode: 'reset' | 'serve'; jwks: unknown } = { mode: 'reset', jwks: { keys: [] } };

  const https = createHttpsServer({ cert: certificatePem, key: privateKey }, (req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(state.jwks));
  });
  const tcp = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (state.mode === 'reset') socket.destroy();
    else https.emit('connection', socket);
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const { port } = tcp.address() as AddressInfo;

  return {
    uri: `https://127.0.0.1:${port}/jwks.json`,
    connections: () => connections,
    requests: () => requests,
    get mode() {
      return state.mode;
    },
    set mode(value) {
      state.mode = value;
    },
    get jwks() {
      return state.jwks;
    },
    set jwks(value) {
      state.jwks = value;
    },
    trustInProcess() {
      const options = globalAgent.options as { ca?: unknown };
      const previous = options.ca;
      options.ca = [certificatePem];
      return () => {
        if (previous === undefined) delete options.ca;
        else options.ca = previous;
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        https.close();
        tcp.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// A minimal self-signed X.509 v3 certificate (EC P-256, ecdsa-with-SHA256, SAN = one IP address),
// DER-encoded by hand so that the tests need no openssl binary and no extra package.

function selfSignedCertificate(ip: string): { certificatePem: string; privateKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const name = sequence(set(sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(ip)))));
  const now = Date.now();
  const validity = sequence(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 86_400_000)));
  const ipBytes = Buffer.from(ip.split('.').map(Number));
  const subjectAltName = sequence(oid('2.5.29.17'), tlv(0x04, sequence(tlv(0x87, ipBytes))));
  const serial = randomBytes(8);
  serial[0]! &= 0x7f; // positive
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ecdsaWithSha256,
    name,
    validity,
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(subjectAltName)),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = sequence(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const certificatePem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  // Parses it once, so that a malformed encoding fails here rather than as a TLS mystery.
  if (!new X509Certificate(certificatePem).checkIP(ip)) throw new Error('self-signed certificate does not name the IP');
  return { certificatePem, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function tlv(tag: number, value: Buffer): Buffer {
  const length = value.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else {
    const bytes: number[] = [];
    for (let n = length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, value]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const integer = (value: Buffer) => tlv(0x02, value);

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let n = arc >> 7; n > 0; n >>= 7) chunk.unshift((n & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function utcTime(date: Date): Buffer {
  const pad = (n: number) => String(n).padStart(2, '0');
  const text = `${pad(date.getUTCFullYear() % 100)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(text));
}
