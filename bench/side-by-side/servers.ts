import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_API_KEY, BENCH_SECRET } from '../herald-process.js';
import { spawnCentrifugo } from './centrifugo-process.js';
import { CentrifugoPublisher } from './centrifugo-publisher.js';
import { HeraldPublisher, type Publisher } from './publisher.js';
import { SERVER_LABELS, type ServerKind } from './server-kinds.js';
import { spawnServer, type ServerProcess } from './server-process.js';

export { CENTRIFUGO_KINDS, SERVER_KINDS, SERVER_LABELS, type ServerKind } from './server-kinds.js';

export interface TargetOptions {
  /** A checkout with Herald built (packages/server/dist); the current one by default. */
  heraldDir: string;
  /** Connections the run will open, so that Herald's per-address limit does not refuse them. */
  connections: number;
  /** The Centrifugo binary, for the Centrifugo kinds (see bench/peers/centrifugo-binary.ts). */
  centrifugoBinary?: string;
}

/** A server kind that can be started, and started again on the same port (and data) for the restart scenario. */
export interface BenchTarget {
  kind: ServerKind;
  start(port?: number): Promise<ServerProcess>;
  /** What publishes and broadcasts to this kind of server at `url`. */
  publisher(url: string): Publisher;
}

export function createTarget(kind: ServerKind, options: TargetOptions): BenchTarget {
  if (kind === 'herald') return heraldTarget(options);
  if (kind === 'centrifugo' || kind === 'centrifugo-history') return centrifugoTarget(kind, options);
  const script = resolve('bench/peers', kind === 'ws' ? 'bare-ws-server.ts' : 'socketio-server.ts');
  return {
    kind,
    start: (port = 0) =>
      spawnServer({
        nodeArgs: ['--import', 'tsx', script],
        env: { PORT: String(port), PEER_JWT_SECRET: BENCH_SECRET, PEER_API_KEY: BENCH_API_KEY },
      }),
    publisher: (url) => new HeraldPublisher(url),
  };
}

function centrifugoTarget(kind: 'centrifugo' | 'centrifugo-history', options: TargetOptions): BenchTarget {
  const binary = options.centrifugoBinary;
  if (!binary) throw new Error(`${SERVER_LABELS[kind]} needs the Centrifugo binary (bench/peers/centrifugo-install.sh)`);
  return {
    kind,
    start: (port = 0) =>
      spawnCentrifugo({ binary, mode: kind === 'centrifugo' ? 'plain' : 'history', port, jwtSecret: BENCH_SECRET, apiKey: BENCH_API_KEY }),
    publisher: (url) => new CentrifugoPublisher(url, BENCH_API_KEY),
  };
}

function heraldTarget(options: TargetOptions): BenchTarget {
  // One data dir for both starts: a restarted Herald finds the streams it stored, and clients resume by seq.
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  return {
    kind: 'herald',
    start: (port = 0) =>
      spawnServer({
        cwd: options.heraldDir,
        nodeArgs: ['packages/server/bin/herald.js', 'start'],
        env: {
          HERALD_PORT: String(port),
          HERALD_DATA_DIR: dataDir,
          HERALD_JWT_SECRET: BENCH_SECRET,
          HERALD_API_KEY: BENCH_API_KEY,
          HERALD_LOG_LEVEL: 'info',
          // The load generator comes from a few loopback addresses; every other setting is Herald's default.
          HERALD_MAX_CONNECTIONS_PER_ADDRESS: String(options.connections + 1000),
        },
      }),
    publisher: (url) => new HeraldPublisher(url),
  };
}

/** The port a server's URL names. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}
