import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERALD_BIN = fileURLToPath(new URL('../../packages/server/bin/herald.js', import.meta.url));

/** One `herald start` node on a fixed port, so that a restart comes back where the balancer expects it. */
export class GatewayNode {
  private child: ChildProcess | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [HERALD_BIN, 'start'], {
      env: { ...process.env, ...this.env, HERALD_HOST: '127.0.0.1', HERALD_PORT: String(this.port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.child = child;
    let exited = false;
    child.once('exit', () => (exited = true));
    // Up when it answers /healthz; its log level is the run's choice, so no log line is waited for.
    for (const deadline = Date.now() + 60_000; ; ) {
      if (exited) throw new Error(`${this.name} exited while starting`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not answer within 60 s`);
      const healthy = await fetch(`http://127.0.0.1:${this.port}/healthz`).then(
        (response) => response.ok,
        () => false,
      );
      if (healthy) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** kill -9: no drain, no goodbye to the clients. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}
