import { afterEach, describe, expect, it, vi } from 'vitest';
import { HandshakeQueue, type HandshakeQueueOptions } from '../../src/transport/handshake-queue.js';

/**
 * A queue of named handshakes whose runs the test finishes by hand, with a clock it moves, and a log of what the
 * queue did: started, expired, and each count of waiting handshakes it reported.
 */
function setup(options: Partial<Pick<HandshakeQueueOptions<string>, 'maxInFlight' | 'maxWaiting' | 'maxWaitMs'>> = {}) {
  const log: string[] = [];
  const running = new Map<string, () => void>();
  const gone = new Set<string>();
  const clock = { now: 1000 };
  const queue = new HandshakeQueue<string>({
    maxInFlight: 2,
    maxWaiting: 3,
    maxWaitMs: 500,
    ...options,
    run: (item) => {
      log.push(`run ${item}`);
      const { promise, resolve } = Promise.withResolvers<void>();
      running.set(item, resolve);
      return promise;
    },
    gone: (item) => gone.has(item),
    expire: (item) => log.push(`expire ${item}`),
    waitingChanged: (count) => log.push(`waiting ${count}`),
    now: () => clock.now,
  });
  /** Ends a running handshake, and lets the queue hand its slot on. */
  async function finish(item: string): Promise<void> {
    const resolve = running.get(item);
    if (!resolve) throw new Error(`${item} is not running`);
    running.delete(item);
    resolve();
    await new Promise((next) => setImmediate(next));
  }
  return { queue, log, gone, clock, finish, running };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('HandshakeQueue', () => {
  it('runs up to maxInFlight at once and queues the rest, reporting how many wait', () => {
    const { queue, log } = setup();
    expect(queue.offer('a')).toBe(true);
    expect(queue.offer('b')).toBe(true);
    expect(queue.offer('c')).toBe(true);
    expect(log).toEqual(['run a', 'run b', 'waiting 1']);
  });

  it('refuses past maxWaiting, without reporting a change', () => {
    const { queue, log } = setup({ maxInFlight: 1, maxWaiting: 2 });
    expect(queue.offer('a')).toBe(true);
    expect(queue.offer('b')).toBe(true);
    expect(queue.offer('c')).toBe(true);
    expect(queue.offer('d')).toBe(false);
    expect(queue.offer('e')).toBe(false);
    expect(log).toEqual(['run a', 'waiting 1', 'waiting 2']);
  });

  it('refuses every handshake past the in-flight ones when nothing may wait', () => {
    const { queue, log } = setup({ maxInFlight: 1, maxWaiting: 0 });
    expect(queue.offer('a')).toBe(true);
    expect(queue.offer('b')).toBe(false);
    expect(log).toEqual(['run a']);
  });

  it('hands each freed slot to the oldest waiting handshake, first in first out', async () => {
    const { queue, log, finish } = setup({ maxInFlight: 1 });
    for (const item of ['a', 'b', 'c', 'd']) queue.offer(item);
    log.length = 0;
    await finish('a');
    expect(log).toEqual(['run b', 'waiting 2']);
    await finish('b');
    await finish('c');
    expect(log).toEqual(['run b', 'waiting 2', 'run c', 'waiting 1', 'run d', 'waiting 0']);
  });

  it('gives a slot back once its run settles, so that a later offer runs at once', async () => {
    const { queue, log, finish } = setup({ maxInFlight: 1 });
    queue.offer('a');
    await finish('a');
    expect(queue.offer('b')).toBe(true);
    expect(log).toEqual(['run a', 'waiting 0', 'run b']);
  });

  it('keeps a new handshake behind those that wait, even while the slot is being handed on', async () => {
    const { queue, log, running } = setup({ maxInFlight: 1 });
    queue.offer('a');
    queue.offer('b');
    // a ended, but the queue has not heard yet: c must still queue behind b.
    running.get('a')!();
    expect(queue.offer('c')).toBe(true);
    await new Promise((next) => setImmediate(next));
    expect(log).toEqual(['run a', 'waiting 1', 'waiting 2', 'run b', 'waiting 1']);
  });

  it('refuses a handshake that waited longer than maxWaitMs instead of running it, and runs the next', async () => {
    const { queue, log, clock, finish } = setup({ maxInFlight: 1, maxWaitMs: 500 });
    queue.offer('a');
    queue.offer('old');
    clock.now += 200;
    queue.offer('young');
    clock.now += 301;
    log.length = 0;
    await finish('a');
    // old waited 501 ms, young 301 ms.
    expect(log).toEqual(['expire old', 'run young', 'waiting 0']);
  });

  it('still runs a handshake that waited exactly maxWaitMs', async () => {
    const { queue, log, clock, finish } = setup({ maxInFlight: 1, maxWaitMs: 500 });
    queue.offer('a');
    queue.offer('b');
    clock.now += 500;
    log.length = 0;
    await finish('a');
    expect(log).toEqual(['run b', 'waiting 0']);
  });

  it('skips a handshake whose client went away while it waited: neither run nor expired', async () => {
    const { queue, log, gone, finish } = setup({ maxInFlight: 1 });
    queue.offer('a');
    queue.offer('left');
    queue.offer('also-left');
    queue.offer('b');
    gone.add('left');
    gone.add('also-left');
    log.length = 0;
    await finish('a');
    expect(log).toEqual(['run b', 'waiting 0']);
  });

  it('counts a gone handshake as gone before it counts it as expired', async () => {
    const { queue, log, gone, clock, finish } = setup({ maxInFlight: 1, maxWaitMs: 100 });
    queue.offer('a');
    queue.offer('left');
    gone.add('left');
    clock.now += 1000;
    log.length = 0;
    await finish('a');
    expect(log).toEqual(['waiting 0']);
  });

  it('goes past skipped and expired handshakes to the first one it can run, for each freed slot', async () => {
    const { queue, log, gone, clock, finish } = setup({ maxInFlight: 2, maxWaiting: 10, maxWaitMs: 100 });
    queue.offer('a');
    queue.offer('b');
    queue.offer('expired');
    queue.offer('left');
    clock.now += 150;
    for (const item of ['c', 'd', 'e']) queue.offer(item);
    gone.add('left');
    log.length = 0;
    await finish('a');
    expect(log).toEqual(['expire expired', 'run c', 'waiting 2']);
    await finish('b');
    expect(log).toEqual(['expire expired', 'run c', 'waiting 2', 'run d', 'waiting 1']);
  });

  it('hands over what waits, oldest first, on takeWaiting, and runs none of it later', async () => {
    const { queue, log, finish } = setup({ maxInFlight: 1 });
    for (const item of ['a', 'b', 'c', 'd']) queue.offer(item);
    log.length = 0;
    expect(queue.takeWaiting()).toEqual(['b', 'c', 'd']);
    expect(log).toEqual(['waiting 0']);
    await finish('a');
    expect(log).toEqual(['waiting 0', 'waiting 0']);
    expect(queue.takeWaiting()).toEqual([]);
  });

  it('has room to queue again after takeWaiting', () => {
    const { queue } = setup({ maxInFlight: 1, maxWaiting: 1 });
    queue.offer('a');
    queue.offer('b');
    expect(queue.offer('c')).toBe(false);
    queue.takeWaiting();
    expect(queue.offer('c')).toBe(true);
  });

  it('reads the wall clock when it is given none', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const log: string[] = [];
    let finishA = (): void => {};
    const queue = new HandshakeQueue<string>({
      maxInFlight: 1,
      maxWaiting: 1,
      maxWaitMs: 100,
      run: (item) => {
        log.push(`run ${item}`);
        return new Promise((resolve) => (finishA = resolve));
      },
      gone: () => false,
      expire: (item) => log.push(`expire ${item}`),
      waitingChanged: () => {},
    });
    queue.offer('a');
    queue.offer('b');
    vi.setSystemTime(101);
    finishA();
    await new Promise((next) => setImmediate(next));
    expect(log).toEqual(['run a', 'expire b']);
  });
});
