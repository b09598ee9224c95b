import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The release the figures of the performance issue were measured with. */
export const CENTRIFUGO_VERSION = 'v6.9.1';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const INSTALL_SCRIPT = resolve(repoRoot, 'bench/peers/centrifugo-install.sh');
/** Where centrifugo-install.sh leaves the binary (.cache/ is not committed). */
export const DEFAULT_CENTRIFUGO_BINARY = resolve(repoRoot, '.cache/centrifugo', CENTRIFUGO_VERSION, 'centrifugo');

export type CentrifugoBinary = { binary: string } | { missing: string };

export interface FindOptions {
  /** The cached binary; when absent it is built here with `go`. */
  binary: string;
  /** The Go command to build with ("go" on PATH by default). */
  go: string;
  log: (line: string) => void;
}

/**
 * The Centrifugo binary to run, built once from the Go module proxy when it is not cached yet; or why there is
 * none (Go is not installed, or the build failed), so that the run can say so and go on with the other servers.
 */
export function findCentrifugo(options: FindOptions): CentrifugoBinary {
  if (isExecutable(options.binary)) return { binary: options.binary };
  const go = spawnSync(options.go, ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    return { missing: `Go is not installed (${options.go} version: ${go.error?.message ?? go.stderr.trim()}), so Centrifugo ${CENTRIFUGO_VERSION} cannot be built` };
  }
  options.log(`building Centrifugo ${CENTRIFUGO_VERSION} once with ${go.stdout.trim()} (minutes of CPU): ${INSTALL_SCRIPT}`);
  const build = spawnSync(INSTALL_SCRIPT, [], {
    encoding: 'utf8',
    env: { ...process.env, GO: options.go, CENTRIFUGO_BINARY: options.binary },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (build.status !== 0 || !isExecutable(options.binary)) {
    return { missing: `the build of Centrifugo ${CENTRIFUGO_VERSION} failed (${INSTALL_SCRIPT} exited ${build.status ?? build.signal})` };
  }
  return { binary: options.binary };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
