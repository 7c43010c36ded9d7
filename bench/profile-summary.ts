/**
 * Where a CPU profile's time goes, by component: `npm exec -- tsx bench/profile-summary.ts
 * <file.cpuprofile> [--from S] [--to S] [--requests N] [--top N]` (S: seconds since the profile
 * started; N requests: also print ms per request). See BENCHMARKS.md for how the bench is
 * profiled. Prints:
 *
 * - a timeline: per 5 s, the share of samples that were busy (a measurement at concurrency 8
 *   is the plateau near 100 %: pick its window with --from/--to);
 * - time by side: each sample charged to the nearest frame on its stack that is a package or
 *   repo file (so Node internals such as streams, http and timers count for whoever called
 *   them), then grouped: the path only the service takes (bench HTTP client, local gateway,
 *   handlers, middy, Powertools, valibot, the HTTP server), the AWS SDK (which the handlers and
 *   the floor both drive, with the same calls), and the runtime (GC, event loop);
 * - time by owner, and self time by component (package, repo folder, Node module, or V8's own);
 * - the top functions by self time.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string', default: '25' }, requests: { type: 'string' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--from S] [--to S] [--requests N] [--top N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const from = values.from === undefined ? -Infinity : Number(values.from) * 1e6;
const to = values.to === undefined ? Infinity : Number(values.to) * 1e6;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

/** The component a frame belongs to: a package, a repo folder, a Node module, or V8's own. */
function component(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:internal/deps/undici')) return 'undici (fetch)';
  if (url.startsWith('node:')) return `node:${url.slice(5).replace(/^internal\//, '').split('/')[0]}`;
  const repo = /\/(local|functions|shared|bench|client)\/(.+)$/.exec(url);
  if (repo) return repo[1] === 'shared' || repo[1] === 'functions' ? `${repo[1]}/` : `${repo[1]}/${repo[2]}`;
  return url;
}
/** Which path an owner belongs to: only the service's, the SDK both sides drive, or the runtime's. */
function side(owner: string): string {
  if (/^@aws-sdk\/|^@smithy\//.test(owner)) return 'AWS SDK (service and floor)';
  if (/^bench\/(endpoints|dynamodb-meter)/.test(owner)) return 'floor and meter (bench)';
  if (/^undici|^openapi-fetch|^client\//.test(owner)) return 'service: bench HTTP client (fetch)';
  if (/^local\//.test(owner)) return 'service: local gateway (local/)';
  if (/^(shared|functions)\/$/.test(owner)) return 'service: handlers and shared/';
  if (/^@middy|^@aws-lambda-powertools|^@aws\/lambda-invoke-store|^valibot|^aws-jwt-verify/.test(owner)) return 'service: middy, Powertools, valibot, jwt';
  if (/^node:(_http_server|_http_incoming|_http_common)$/.test(owner)) return 'service: HTTP server parsing (node:http)';
  if (/^\(garbage collector\)/.test(owner)) return 'runtime: GC';
  return 'runtime: event loop, streams, sockets (shared)';
}
const isOwner = (node: ProfileNode) => /node_modules\/|\/(local|functions|shared|bench|client)\//.test(node.callFrame.url) || node.callFrame.url.startsWith('node:internal/deps/undici');

const self = new Map<string, number>();
const sides = new Map<string, number>();
const owner = new Map<string, number>();
const functions = new Map<string, number>();
const timeline = new Map<number, { all: number; busy: number }>();
const ownerOf = new Map<number, string>();
let t = profile.startTime;
let total = 0;
let busy = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i] ?? 0;
  t += delta;
  const since = t - profile.startTime;
  const node = byId.get(profile.samples[i]!)!;
  const idle = node.callFrame.functionName === '(idle)';
  const bucket = Math.floor(since / 5e6);
  const slot = timeline.get(bucket) ?? { all: 0, busy: 0 };
  slot.all += delta;
  if (!idle) slot.busy += delta;
  timeline.set(bucket, slot);
  if (since < from || since > to) continue;
  total += delta;
  if (idle) continue;
  busy += delta;
  add(self, component(node), delta);
  add(owner, ownerName(node.id), delta);
  add(sides, side(ownerName(node.id)), delta);
  const { functionName, url, lineNumber } = node.callFrame;
  add(functions, `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(?=(local|functions|shared|bench|client)\/)/, '')}:${lineNumber + 1}`, delta);
}

function add(map: Map<string, number>, key: string, delta: number) {
  map.set(key, (map.get(key) ?? 0) + delta);
}

function ownerName(id: number): string {
  const known = ownerOf.get(id);
  if (known !== undefined) return known;
  const node = byId.get(id)!;
  const up = parent.get(id);
  const name = isOwner(node) ? component(node) : up === undefined ? component(node) : ownerName(up);
  const result = name === '(root)' ? component(node) : name;
  ownerOf.set(id, result);
  return result;
}

const perRequest = values.requests === undefined ? undefined : Number(values.requests);
const ms = (us: number) => (us / 1000).toFixed(0);
const pct = (us: number, of: number) => `${((100 * us) / of).toFixed(1)} %`;
const table = (map: Map<string, number>, limit = Infinity) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, ms: Number(ms(us)), ...(perRequest && { msPerRequest: Number((us / 1000 / perRequest).toFixed(3)) }), share: pct(us, busy) }));

console.log(`${file}: ${ms(total)} ms in the window, ${ms(busy)} ms busy (${pct(busy, total)}); shares below are of busy time`);
console.log('\nTimeline (per 5 s: the share of samples that were busy)');
console.table([...timeline.entries()].map(([bucket, slot]) => ({ from_s: bucket * 5, busy: pct(slot.busy, slot.all) })));
console.log('\nTime by side (each sample charged to its nearest package or repo frame, then grouped)');
console.table(table(sides));
console.log('\nTime by owner (Node internals charged to the nearest package or repo frame that called them)');
console.table(table(owner));
console.log('\nSelf time by component');
console.table(table(self, Number(values.top)));
console.log(`\nTop ${values.top} functions by self time`);
console.table(table(functions, Number(values.top)));
