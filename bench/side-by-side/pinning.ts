import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** The server gets core 0 and the load generator core 1, so that neither steals the other's time. */
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

let available: boolean | undefined;
let wanted = true;

/** Turns pinning off for this run (the test does: a loaded shared machine starts pinned servers slowly). */
export function setPinning(enabled: boolean): void {
  wanted = enabled;
}

/** Whether `taskset` (util-linux) is here and there are at least two cores to split. */
export function canPin(): boolean {
  if (!wanted) return false;
  if (available === undefined) {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
      available = availableParallelism() >= 2;
    } catch {
      available = false;
    }
  }
  return available;
}

/** The command line that runs `command` on `core`, or `command` itself when pinning is not possible. */
export function pinned(core: number, command: string[]): string[] {
  return canPin() ? ['taskset', '-c', String(core), ...command] : command;
}

/** Attempts at moving a process: `taskset -a` fails when one of the threads it listed has exited meanwhile. */
const PIN_ATTEMPTS = 5;

/** Moves a running process (all of its threads) to `core`; does nothing when pinning is not possible. */
export function pinProcess(pid: number, core: number): void {
  if (!canPin()) return;
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
      return;
    } catch (error) {
      // A Node process starts and ends threads of its own (a worker of tsx, of the thread pool) at any time.
      if (attempt >= PIN_ATTEMPTS) throw new Error(`could not pin process ${pid} to core ${core} in ${PIN_ATTEMPTS} attempts`, { cause: error });
    }
  }
}
