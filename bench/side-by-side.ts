/**
 * Herald against a bare `ws` server, Socket.IO 4 and Centrifugo 6 (a personal channel per user, without and with
 * history and recovery), in one run on this machine: idle memory per connection, per-user fan-out (maximum, then
 * latency at half of bare ws's maximum and at a steady 2,000 events/s), broadcast, connect storm and restart,
 * churn; every delivering scenario also per second of server CPU. Each server runs as its own process on core 0
 * (Centrifugo with GOMAXPROCS=1), the load generator on core 1.
 *
 *   npm run bench                                   # default sizes: 15,000 connections, 5 minutes of churn
 *   npm run bench -- --connections=2000 --churnSeconds=30 --servers=ws,centrifugo-history,herald
 *   npm run bench -- --small=true                   # the test's sizes
 *   npm run bench -- --servers=herald --cpuProfileDir=DIR    # a CPU profile of each scenario (Node.js servers)
 *   npm run bench -- --steadyRate=1000              # the steady run's events/s (2,000 by default)
 *
 * Centrifugo is built once into .cache/centrifugo/ with Go (bench/peers/centrifugo-install.sh, through the Go
 * module proxy); where Go is missing the run says so, skips both Centrifugo servers and runs the others.
 * Writes bench/results/<set>-<timestamp>.json, .md (tables) and .svg (ratio chart), and prints the tables.
 */
import { readFileSync } from 'node:fs';
import { parseOptions } from './side-by-side/options.js';
import { runSideBySide } from './side-by-side/run.js';
import { killServers } from './side-by-side/server-process.js';

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // Load workers exit with their IPC channel; the servers are separate processes and must be stopped here.
    killServers();
    process.exit(130);
  });
}

const run = await runSideBySide(parseOptions(process.argv.slice(2)));
console.log(`\n${readFileSync(run.files.table, 'utf8')}`);
console.log(`written: ${Object.values(run.files).join(', ')}`);
