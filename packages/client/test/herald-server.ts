import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../server/src/auth/mint-token.js';
import { freePort } from '../../server/test/helpers/free-port.js';
import { cleanEnv, HeraldProcess } from '../../server/test/helpers/herald-process.js';

const SECRET = 'client-test-secret-long-enough-for-hs256!';
const API_KEY = 'client-test-api-key-0123456789';

/**
 * A real `herald start` process on a fixed port and a SQLite file that outlive it, so a test can kill it
 * (SIGKILL, SIGSTOP) and start it again where clients expect it.
 */
export class HeraldServer {
  private child: HeraldProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'herald-client-'));

  private constructor(
    readonly port: number,
    private readonly extraEnv: Record<string, string>,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<HeraldServer> {
    const server = new HeraldServer(await freePort(), env);
    await server.restart();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get process(): HeraldProcess {
    if (this.child === undefined) throw new Error('herald is not running');
    return this.child;
  }

  token(userId: string, ttl = '1h'): Promise<string> {
    return mintToken(SECRET, userId, ttl);
  }

  async restart(): Promise<void> {
    const env = cleanEnv({
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: String(this.port),
      HERALD_DATA_DIR: join(this.dir, 'data'),
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEY: API_KEY,
      HERALD_LOG_LEVEL: 'info',
      ...this.extraEnv,
    });
    this.child = new HeraldProcess(['start'], { cwd: this.dir, env });
    await this.child.waitForLog((entry) => entry['msg'] === 'Herald is listening', 30_000);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    child.kill(signal);
    await child.exited;
    this.child = undefined;
  }

  /** POST /publish; resolves to the HTTP status, or 0 when nothing answered. */
  async publish(body: unknown): Promise<number> {
    try {
      const response = await fetch(`${this.url}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    if (this.child !== undefined) await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
