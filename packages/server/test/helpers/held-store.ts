import type { Store } from '../../src/store/store.js';
import { latch, type Latch } from './latch.js';

/** Which part of a read is held: its start (the real store is not asked yet) or its answer (it has been read). */
export type HoldPhase = 'before' | 'answer';

export interface HeldRead {
  /** Resolves once the read is held: it has reached the seam ('before') or the real store has answered ('answer'). */
  reached: Promise<void>;
  /** Lets the read go on: to the real store ('before'), or its answer to the caller ('answer'). */
  release(): void;
}

export interface HoldOptions {
  phase: HoldPhase;
  /** eventsAfter only: hold only a read from this seq (e.g. the second page of a replay). */
  since?: number;
}

interface Hold {
  method: 'eventsAfter' | 'headSeq';
  userId: string;
  since: number | undefined;
  phase: HoldPhase;
  held: Latch;
  gate: Latch;
}

export interface HeldStore {
  store: Store;
  /** Holds the next eventsAfter read of `userId` (that `since` matches) until the test releases it. */
  holdEventsAfter(userId: string, options: HoldOptions): HeldRead;
  /** Holds the next headSeq read of `userId` until the test releases it. */
  holdHeadSeq(userId: string, options: Pick<HoldOptions, 'phase'>): HeldRead;
}

/**
 * The real store with one addition at the Store seam: a chosen read of a chosen user can be held, before it
 * starts or after it was answered, to put a publish, a resume or an outage exactly inside it. Everything else
 * goes straight to the real store.
 */
export function heldStore(inner: Store): HeldStore {
  const holds: Hold[] = [];
  const take = (method: Hold['method'], userId: string, since?: number): Hold | undefined => {
    const index = holds.findIndex(
      (hold) => hold.method === method && hold.userId === userId && (hold.since === undefined || hold.since === since),
    );
    return index === -1 ? undefined : holds.splice(index, 1)[0];
  };
  const around = async <T>(hold: Hold | undefined, read: () => Promise<T>): Promise<T> => {
    if (hold === undefined) return read();
    if (hold.phase === 'before') {
      hold.held.open();
      await hold.gate.reached;
      return read();
    }
    // A failed read is not held: the caller sees the error as it would.
    const answer = await read();
    hold.held.open();
    await hold.gate.reached;
    return answer;
  };
  const add = (method: Hold['method'], userId: string, options: HoldOptions): HeldRead => {
    const hold: Hold = { method, userId, since: options.since, phase: options.phase, held: latch(), gate: latch() };
    holds.push(hold);
    return { reached: hold.held.reached, release: hold.gate.open };
  };
  const store: Store = {
    migrate: () => inner.migrate(),
    append: (inputs) => inner.append(inputs),
    markRead: (userId, ids) => inner.markRead(userId, ids),
    markAllRead: (userId) => inner.markAllRead(userId),
    eventsAfter: (userId, since, limit) => around(take('eventsAfter', userId, since), () => inner.eventsAfter(userId, since, limit)),
    headSeq: (userId) => around(take('headSeq', userId), () => inner.headSeq(userId)),
    // The head read of a connection, which StreamSync makes with the floor: held as a headSeq read.
    streamBounds: (userId) => around(take('headSeq', userId), () => inner.streamBounds(userId)),
    changeNotifications: (userId, change, target) => inner.changeNotifications(userId, change, target),
    recordAction: (userId, id, action) => inner.recordAction(userId, id, action),
    eraseUser: (userId) => inner.eraseUser(userId),
    sweep: (options) => inner.sweep(options),
    counts: (userId) => inner.counts(userId),
    listNotifications: (userId, query) => inner.listNotifications(userId, query),
    unreadCount: (userId) => inner.unreadCount(userId),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return {
    store,
    holdEventsAfter: (userId, options) => add('eventsAfter', userId, options),
    holdHeadSeq: (userId, options) => add('headSeq', userId, options),
  };
}
