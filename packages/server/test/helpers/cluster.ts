import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { mintToken } from '../../src/auth/mint-token.js';
import { dropDatabase, freshPostgresUrl } from './databases.js';
import { cleanEnv, HeraldProcess } from './herald-process.js';
import { httpRequest } from './http-request.js';
import { TestClient } from './ws-client.js';

export const CLUSTER_SECRET = 'cluster-test-secret-long-enough-for-hs256';
export const CLUSTER_API_KEY = 'cluster-test-api-key-0123456789';

/** One `herald start` process of a test cluster. */
export interface ClusterNode {
  name: string;
  child: HeraldProcess;
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port>/ws/notifications */
  wsUrl: string;
}

/**
 * Gateway processes of one test: one fresh PostgreSQL database, one Redis (the run's, or `redisUrl`), and a key
 * prefix of their own, so that clusters of concurrent test files never see each other's presence or channels.
 */
export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'herald-cluster-'));

  private constructor(
    readonly databaseUrl: string,
    readonly redisUrl: string,
    readonly env: Record<string, string>,
  ) {}

  static async create(options: { redisUrl?: string; env?: Record<string, string> } = {}): Promise<TestCluster> {
    const databaseUrl = await freshPostgresUrl();
    const redisUrl = options.redisUrl ?? inject('redisUrl');
    const env = {
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: '0',
      HERALD_DATABASE_URL: databaseUrl,
      HERALD_REDIS_URL: redisUrl,
      HERALD_REDIS_KEY_PREFIX: `test-${randomBytes(6).toString('hex')}:`,
      HERALD_JWT_SECRET: CLUSTER_SECRET,
      HERALD_API_KEY: CLUSTER_API_KEY,
      HERALD_LOG_LEVEL: 'info',
      HERALD_SHUTDOWN_TIMEOUT_MS: '2000',
      ...options.env,
    };
    return new TestCluster(databaseUrl, redisUrl, env);
  }

  /** Starts `count` nodes at once; resolves when every one is listening. */
  async start(count: number): Promise<ClusterNode[]> {
    return Promise.all(Array.from({ length: count }, () => this.startNode()));
  }

  async startNode(): Promise<ClusterNode> {
    const name = `node-${this.nodes.length + 1}`;
    const child = new HeraldProcess(['start'], {
      cwd: this.dataDir,
      env: cleanEnv({ ...this.env, HERALD_DATA_DIR: join(this.dataDir, name), HERALD_NODE_ID: `${name}-${randomBytes(3).toString('hex')}` }),
    });
    const node = { name, child, url: '', wsUrl: '' };
    this.nodes.push(node);
    const line = await child.waitForLog((entry) => entry['msg'] === 'Herald is listening', 30_000);
    node.url = line['url'] as string;
    node.wsUrl = `${node.url.replace(/^http/, 'ws')}/ws/notifications`;
    return node;
  }

  /** POST /publish on `node`; the HTTP status and body. */
  publish(node: ClusterNode, body: unknown): Promise<{ status: number; body: any }> {
    return httpRequest(node.url, '/publish', { bearer: CLUSTER_API_KEY, body });
  }

  token(userId: string): Promise<string> {
    return mintToken(CLUSTER_SECRET, userId);
  }

  /** SIGKILLs every node still running, drops the database and deletes the data directories. */
  async remove(): Promise<void> {
    for (const node of this.nodes) node.child.kill('SIGKILL');
    await Promise.all(this.nodes.map((node) => node.child.exited));
    await dropDatabase(this.databaseUrl);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export type TabOutcome = { connected: true; client: TestClient } | { connected: false; code: number };

/** Opens a tab and waits for the server's verdict: the `connected` frame, or a close (4029 for a limit). */
export async function openTab(wsUrl: string, token: string, since?: number): Promise<TabOutcome> {
  const client = await TestClient.open(wsUrl, token, since);
  const verdict = await Promise.race([
    client.waitForType('connected', 1, 15_000).then(() => 'connected' as const),
    client.closed,
  ]);
  if (verdict === 'connected') return { connected: true, client };
  return { connected: false, code: verdict.code };
}

/** A tab that must be admitted. */
export async function connectTab(wsUrl: string, token: string, since?: number): Promise<TestClient> {
  const outcome = await openTab(wsUrl, token, since);
  if (!outcome.connected) throw new Error(`the tab was closed with ${outcome.code} instead of connecting`);
  return outcome.client;
}

/** A user id no other test uses. */
export function clusterUser(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}
