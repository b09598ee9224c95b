import type { ServerKind } from './servers.js';

/** Commands from the coordinator to a load worker; each is answered with a WorkerReply of the same id. */
export type WorkerCommand =
  | { op: 'prepare'; kind: ServerKind; users: string[]; addresses: string[] }
  | { op: 'open'; base: string; burst: number }
  | { op: 'reset'; recordLatency: boolean }
  | { op: 'stats'; latencies: boolean }
  | { op: 'reconnect'; enabled: boolean; base: string }
  | { op: 'churn'; seconds: number; perSecond: number }
  | { op: 'close' };

export interface WorkerStats {
  clients: number;
  ready: number;
  /** Events received since the last reset. */
  received: number;
  /** Fewest and most events one connection received since the last reset. */
  minPerClient: number;
  maxPerClient: number;
  /** Epoch ms of the last event received and of the last connection that became ready. */
  lastEventAt: number;
  lastReadyAt: number;
  /** Failed connection attempts (refused, closed before ready) since the last reset. */
  retries: number;
  /** Connects and disconnects done by churn. */
  churned: number;
  /** This process's CPU seconds since the last reset, and the wall seconds they were spent in. */
  cpuSeconds: number;
  wallSeconds: number;
  /** Only when asked for: the publish-to-receive times (ms) since a reset that recorded them. */
  latencies?: Float64Array;
}

export interface WorkerReply {
  id: number;
  result?: unknown;
  error?: string;
}
