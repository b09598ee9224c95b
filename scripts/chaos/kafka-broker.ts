import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const KAFKA_SH = fileURLToPath(new URL('../kafka.sh', import.meta.url));

/** The single-node Kafka broker of scripts/kafka.sh on a port and data dir of the run's own, stopped and started at will. */
export class KafkaBroker {
  constructor(
    readonly port: number,
    private readonly dataDir: string,
  ) {}

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  start(): Promise<void> {
    return this.run('start');
  }

  stop(): Promise<void> {
    return this.run('stop');
  }

  private run(command: 'start' | 'stop'): Promise<void> {
    const child = spawn('bash', [KAFKA_SH, command], {
      env: {
        ...process.env,
        KAFKA_PORT: String(this.port),
        KAFKA_CONTROLLER_PORT: String(this.port + 1),
        KAFKA_DATA_DIR: this.dataDir,
        // The broker never outlives the chaos run, even when the run itself is killed.
        KAFKA_STOP_WITH_PID: String(process.pid),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise((resolve, reject) =>
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kafka.sh ${command} exited with ${code}:\n${output}`)))),
    );
  }
}
