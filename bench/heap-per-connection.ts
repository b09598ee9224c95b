/**
 * What one idle connection keeps on a server's JavaScript heap, by constructor: heap snapshots (through the
 * inspector) before and after opening N authenticated connections, the self sizes summed by node name, and the
 * difference divided by N.
 *
 *   npx tsx bench/heap-per-connection.ts [server=herald|ws|socketio] [connections=2000] [heraldDir=.]
 */
import { InspectorSession } from './side-by-side/inspector-session.js';
import { LoadGenerator } from './side-by-side/load-generator.js';
import { createTarget, type ServerKind } from './side-by-side/servers.js';

const [kind = 'herald', connections = '2000', heraldDir = '.'] = process.argv.slice(2);

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per "type:name" of every node in a heap snapshot taken after a GC. */
async function heapByName(inspectorUrl: string): Promise<Map<string, { size: number; count: number }>> {
  const session = await InspectorSession.open(inspectorUrl);
  const chunks: string[] = [];
  // The snapshot arrives in chunks, as events, before the call that asked for it returns.
  session.onEvent<{ chunk: string }>('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => chunks.push(chunk));
  await session.call('HeapProfiler.collectGarbage');
  await session.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  session.close();
  const parsed = JSON.parse(chunks.join('')) as Snapshot;
  const fields = parsed.snapshot.meta.node_fields;
  const types = parsed.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const totals = new Map<string, { size: number; count: number }>();
  for (let index = 0; index < parsed.nodes.length; index += fields.length) {
    const type = types[parsed.nodes[index + typeAt!]!]!;
    const name = type === 'object' || type === 'closure' || type === 'native' ? parsed.strings[parsed.nodes[index + nameAt!]!]! : `(${type})`;
    const key = `${type}: ${name.slice(0, 60)}`;
    const entry = totals.get(key) ?? { size: 0, count: 0 };
    entry.size += parsed.nodes[index + sizeAt!]!;
    entry.count++;
    totals.set(key, entry);
  }
  return totals;
}

const n = Number(connections);
const target = createTarget(kind as ServerKind, { heraldDir, connections: n });
const server = await target.start();
const load = LoadGenerator.start(n);
try {
  await load.prepare(kind as ServerKind, n, `heap-${Date.now().toString(36)}`);
  if (!server.inspectorUrl) throw new Error(`${kind} has no inspector: heap snapshots are for the Node.js servers`);
  const before = await heapByName(server.inspectorUrl);
  await load.open(server.url.replace('http', 'ws'), 250);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await heapByName(server.inspectorUrl);
  const rows = [...after].map(([key, value]) => {
    const was = before.get(key) ?? { size: 0, count: 0 };
    return { key, bytes: (value.size - was.size) / n, count: (value.count - was.count) / n };
  });
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  console.log(`${kind}: ${n} connections, ${(total / 1024).toFixed(2)} KiB of heap per connection\n`);
  for (const row of rows.sort((a, b) => b.bytes - a.bytes).slice(0, 30)) {
    console.log(`${row.bytes.toFixed(0).padStart(6)} B  ${row.count.toFixed(2).padStart(6)} per connection  ${row.key}`);
  }
} finally {
  await load.close();
  await load.stop();
  await server.stop();
}
