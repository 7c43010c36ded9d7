/**
 * Local SES (v1 + v2 API) via the `aws-ses-v2-local` devDependency, run as a child process so it
 * has its own in-memory store and can be stopped cleanly.
 *
 * Besides the SES API it serves (no auth needed on these):
 *   GET  /              web inbox (live)
 *   GET  /store         { templates: {...}, emails: LocalEmail[] }   (?since=<epoch seconds>)
 *   POST /clear-store   drops all emails AND all templates
 *   GET  /health-check  200
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { assertPortFree, getFreePort, supervise, waitUntil } from './dynamodb-local.ts';

const STARTUP_TIMEOUT_MS = 15_000;

/** An email as stored by aws-ses-v2-local (mirrors its `Email` type in dist/store.d.ts). */
export interface LocalEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  attachments: { content: string; contentType: string; filename?: string; size: number }[];
  headers?: { name: string; value: string }[];
  /** Epoch seconds. */
  at: number;
}

export interface SesLocal {
  /** Use as the SESv2Client `endpoint` (any region and credentials work). */
  endpoint: string;
  port: number;
  /** Web inbox to open in a browser. */
  inboxUrl: string;
  stop(): Promise<void>;
}

export async function startSesLocal(options: { port?: number } = {}): Promise<SesLocal> {
  if (options.port) await assertPortFree(options.port);
  const port = options.port || (await getFreePort());
  const cli = createRequire(import.meta.url).resolve('aws-ses-v2-local/dist/cli.js');
  // --host: its default is '::' (all interfaces); local mail has no business on the network.
  const env = { ...process.env };
  delete env.SMTP_TRANSPORT; // would make the emulator forward every email to a real SMTP server
  const child = spawn(process.execPath, [cli, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  const handle = supervise(child, 'aws-ses-v2-local');
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntil(handle, STARTUP_TIMEOUT_MS, async () => {
      const response = await fetch(`${endpoint}/health-check`);
      if (!response.ok) throw new Error(`health-check answered ${response.status}`);
    });
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return { endpoint, port, inboxUrl: `${endpoint}/`, stop: handle.stop };
}

/** All stored emails, oldest first; `since` (epoch seconds, inclusive) filters server-side. */
export async function listLocalEmails(endpoint: string, since?: number): Promise<LocalEmail[]> {
  const url = new URL('/store', endpoint);
  if (since !== undefined) url.searchParams.set('since', String(Math.floor(since)));
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  const store = (await response.json()) as { emails: LocalEmail[] };
  return store.emails;
}
