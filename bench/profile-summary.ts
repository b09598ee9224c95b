/**
 * Reads a V8 CPU profile (node --cpu-prof) and prints where the time went: the busiest functions by self time,
 * every sample charged to the nearest Herald source file on its stack (so "store/sql-store.js" includes the
 * Kysely and better-sqlite3 time it caused synchronously; work resumed after an await has no Herald caller), and
 * every sample charged to the owner (package, Herald file, node) of its innermost JavaScript frame; each as a share
 * of the busy (non-idle) time.
 *
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, top = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const shortUrl = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|packages)\//, '$1/').replace(/^node:/, 'node:');
const heraldFile = (url: string) => /packages\/server\/(?:dist|src)\/(.+)$/.exec(url)?.[1];

/** The owner of a frame: a package under node_modules, a Herald file, or node's own code. */
function ownerOf(url: string): string | undefined {
  const herald = heraldFile(url);
  if (herald) return `herald: ${herald}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return 'node (core modules)';
  return undefined;
}

const self = new Map<string, number>();
const byOwner = new Map<string, number>();
const charged = new Map<string, number>();
let busy = 0;
let idle = 0;
profile.samples.forEach((sample, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  const node = byId.get(sample)!;
  if (node.callFrame.functionName === '(idle)') {
    idle += delta;
    return;
  }
  busy += delta;
  const name = `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  self.set(name, (self.get(name) ?? 0) + delta);
  let owner: string | undefined;
  for (let id: number | undefined = sample; id !== undefined && !owner; id = parent.get(id)) owner = heraldFile(byId.get(id)!.callFrame.url);
  const key = owner ?? (node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : 'outside Herald code (node, libraries on their own)');
  charged.set(key, (charged.get(key) ?? 0) + delta);
  // Native frames (no url: better-sqlite3's run/all, writev, GC) count for the nearest JavaScript caller's owner.
  let owner2: string | undefined;
  for (let id: number | undefined = sample; id !== undefined && !owner2; id = parent.get(id)) owner2 = ownerOf(byId.get(id)!.callFrame.url);
  const ownerKey = owner2 ?? (node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : '(native, no JavaScript caller)');
  byOwner.set(ownerKey, (byOwner.get(ownerKey) ?? 0) + delta);
});

const share = (value: number) => `${((value / busy) * 100).toFixed(1).padStart(5)}%`;
console.log(`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s (${((busy / (busy + idle)) * 100).toFixed(0)}% busy)\n`);
console.log('charged to the nearest Herald file on the stack:');
for (const [key, value] of [...charged].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`  ${share(value)}  ${key}`);
console.log('\nby owner of the innermost JavaScript frame (a package, a Herald file, node):');
for (const [key, value] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`  ${share(value)}  ${key}`);
console.log('\nself time:');
for (const [key, value] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`  ${share(value)}  ${key}`);
