import type { Logger } from 'pino';

/**
 * What a start-up opened, in order, each with its way to close. A failed start and a normal close unwind the same
 * list (last opened, first closed), so nothing a failed start opened stays open, as fastify's onClose hooks do.
 */
export class Disposers {
  private readonly stack: { name: string; close: () => Promise<void> | void }[] = [];

  add(name: string, close: () => Promise<void> | void): void {
    this.stack.push({ name, close });
  }

  /** Closes everything, last first; a close that fails is logged and the rest still close. */
  async closeAll(logger: Logger): Promise<void> {
    for (let entry = this.stack.pop(); entry; entry = this.stack.pop()) {
      try {
        await entry.close();
      } catch (error) {
        logger.error({ err: error }, `closing ${entry.name} failed`);
      }
    }
  }
}
