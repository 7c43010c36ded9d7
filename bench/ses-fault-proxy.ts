/**
 * SES behind a switch, for the load test (bench/load.ts): a pass-through in front of the SES
 * emulator that counts the emails SES accepts per recipient (and those it accepted after the
 * sender had given up waiting), and answers 503 ServiceUnavailable while `down`.
 */
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SesFaultProxy {
  readonly endpoint: string;
  /** While true, every SES call gets 503 ServiceUnavailable. */
  down: boolean;
  /** Per recipient, the emails SES accepted (200 to SendEmail). */
  readonly accepted: Map<string, number>;
  /** Per recipient, the emails SES accepted after the sender had given up waiting for the answer. */
  readonly abandoned: Map<string, number>;
  /** Per recipient, each accepted send's tags (invitation, delivery seq) and time (ms, this process's clock). */
  readonly sends: Record<string, string[]>;
  readonly refused: number;
  reset(): void;
  stop(): Promise<void>;
}

/** A pass-through in front of the SES emulator that counts the emails SES accepts and can play SES being down. */
export async function startSesFaultProxy(target: string): Promise<SesFaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const state = { down: false, accepted: new Map<string, number>(), abandoned: new Map<string, number>(), sends: {} as Record<string, string[]>, refused: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (state.down) {
        state.refused++;
        res.writeHead(503, { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceUnavailable' });
        res.end('{"message":"Service Unavailable"}');
        return;
      }
      const body = Buffer.concat(chunks);
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          const out: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => out.push(chunk));
          answer.on('end', () => {
            if (answer.statusCode === 200 && req.url?.startsWith('/v2/email/outbound-emails')) {
              const recipients = (JSON.parse(body.toString()) as { Destination?: { ToAddresses?: string[] } }).Destination?.ToAddresses ?? [];
              // The sender gave up waiting (its request timeout) while SES took the email: it will
              // retry and SES sends again, the documented duplicate (README, "Email delivery").
              const gaveUp = res.destroyed;
              const tags = (JSON.parse(body.toString()) as { EmailTags?: Array<{ Name: string; Value: string }> }).EmailTags ?? [];
              for (const to of recipients) {
                const address = /<([^>]+)>/.exec(to)?.[1] ?? to;
                (state.sends[address] ??= []).push(`${tags.map((t) => `${t.Name}=${t.Value}`).join(',')} at ${Math.round(performance.now())}${gaveUp ? ' gave-up' : ''}`);
                state.accepted.set(address, (state.accepted.get(address) ?? 0) + 1);
                if (gaveUp) state.abandoned.set(address, (state.abandoned.get(address) ?? 0) + 1);
              }
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(out));
          });
        },
      );
      forward.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    get accepted() {
      return state.accepted;
    },
    get abandoned() {
      return state.abandoned;
    },
    get sends() {
      return state.sends;
    },
    get refused() {
      return state.refused;
    },
    reset() {
      state.accepted = new Map();
      state.abandoned = new Map();
      state.sends = {};
      state.refused = 0;
    },
    async stop() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
