import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPENING_STAMP, StreamCursor } from '../../src/transport/stream-cursor.js';

/** A cursor that has been started at `seq` and went live there, as a tab that asked for the head. */
function liveAt(seq: number): StreamCursor {
  const cursor = new StreamCursor();
  cursor.startAt(seq);
  expect(cursor.tryGoLive(seq, OPENING_STAMP)).toBe(true);
  return cursor;
}

/** Sends `from`..`to` as a reader would, one after the other. */
function sendRange(cursor: StreamCursor, from: number, to: number): void {
  for (let seq = from; seq <= to; seq++) cursor.sent(seq);
}

describe('StreamCursor, as a tab opens', () => {
  it('starts catching up at seq 0 with the opening stamp', () => {
    const cursor = new StreamCursor();
    expect(cursor.lastSeq).toBe(0);
    expect(cursor.isLive).toBe(false);
    expect(cursor.stamp).toBe(OPENING_STAMP);
  });

  it('is placed where the stream starts, and goes live there when nothing was offered', () => {
    const cursor = new StreamCursor();
    cursor.startAt(7);
    expect(cursor.lastSeq).toBe(7);
    expect(cursor.isLive).toBe(false);
    expect(cursor.tryGoLive(7, OPENING_STAMP)).toBe(true);
    expect(cursor.isLive).toBe(true);
  });

  it('holds every offer while catching up, and makes the highest one the goal', () => {
    const cursor = new StreamCursor();
    expect(cursor.judgeLive(5)).toBe('held');
    expect(cursor.judgeLive(3)).toBe('held');
    expect(cursor.judgeLive(1)).toBe('held');
    // A held offer neither moves the cursor nor lets it go live short of the highest one.
    expect(cursor.lastSeq).toBe(0);
    sendRange(cursor, 1, 4);
    expect(cursor.tryGoLive(4, OPENING_STAMP)).toBe(false);
    expect(cursor.judgeLive(4)).toBe('held');
    cursor.sent(5);
    expect(cursor.tryGoLive(5, OPENING_STAMP)).toBe(true);
  });

  it('keeps the highest goal when a lower offer follows (3 after 5 does not lower it)', () => {
    const cursor = new StreamCursor();
    cursor.judgeLive(5);
    cursor.judgeLive(3);
    sendRange(cursor, 1, 3);
    expect(cursor.tryGoLive(3, OPENING_STAMP)).toBe(false);
  });

  it('ignores where open would place it once the client has asked to resume', () => {
    const cursor = new StreamCursor();
    expect(cursor.resumeFrom(2)).toBe(false);
    cursor.startAt(9);
    expect(cursor.lastSeq).toBe(2);
    // The open's own try to go live at its head is stale now: the resume's reader decides.
    expect(cursor.tryGoLive(9, OPENING_STAMP)).toBe(false);
    expect(cursor.isLive).toBe(false);
  });

  it('takes a second placement before any resume (the later start wins)', () => {
    const cursor = new StreamCursor();
    cursor.startAt(4);
    cursor.startAt(6);
    expect(cursor.lastSeq).toBe(6);
  });
});

describe('StreamCursor, live', () => {
  it('sends exactly the next seq, and only `sent` moves it', () => {
    const cursor = liveAt(3);
    expect(cursor.judgeLive(4)).toBe('next');
    // Judged next but not sent (the send failed): still the next one.
    expect(cursor.lastSeq).toBe(3);
    expect(cursor.judgeLive(4)).toBe('next');
    cursor.sent(4);
    expect(cursor.lastSeq).toBe(4);
    expect(cursor.judgeLive(5)).toBe('next');
    expect(cursor.isLive).toBe(true);
  });

  it('drops what it sent already as duplicates, staying live', () => {
    const cursor = liveAt(3);
    expect(cursor.judgeLive(3)).toBe('duplicate');
    expect(cursor.judgeLive(2)).toBe('duplicate');
    expect(cursor.judgeLive(1)).toBe('duplicate');
    expect(cursor.isLive).toBe(true);
    expect(cursor.lastSeq).toBe(3);
  });

  it('flips to catching up on a gap exactly once, with the gap’s seq as the goal', () => {
    const cursor = liveAt(3);
    expect(cursor.judgeLive(6)).toBe('gap');
    expect(cursor.isLive).toBe(false);
    expect(cursor.lastSeq).toBe(3);
    // The reader that the gap started covers everything after: no second gap, no second reader.
    expect(cursor.judgeLive(8)).toBe('held');
    expect(cursor.judgeLive(7)).toBe('held');
    expect(cursor.judgeLive(4)).toBe('held');
    expect(cursor.recheck()).toBe(false);
    expect(cursor.resumeFrom(3)).toBe(false);
  });

  it('goes live again only once the gap’s seq and everything held since were sent', () => {
    const cursor = liveAt(3);
    cursor.judgeLive(6);
    const stamp = cursor.stamp;
    sendRange(cursor, 4, 5);
    expect(cursor.tryGoLive(5, stamp)).toBe(false);
    cursor.sent(6);
    expect(cursor.tryGoLive(6, stamp)).toBe(true);
    expect(cursor.judgeLive(7)).toBe('next');
  });

  it('takes a gap of one seq past the next as a gap, not as the next', () => {
    const cursor = liveAt(0);
    expect(cursor.judgeLive(2)).toBe('gap');
  });
});

describe('StreamCursor.resumeFrom', () => {
  it('from live: moves back, bumps the stamp, asks for a reader, and keeps what was sent as the goal', () => {
    const cursor = liveAt(5);
    expect(cursor.resumeFrom(2)).toBe(true);
    expect(cursor.lastSeq).toBe(2);
    expect(cursor.stamp).toBe(OPENING_STAMP + 1);
    expect(cursor.isLive).toBe(false);
    const stamp = cursor.stamp;
    cursor.sent(3);
    // Seqs 4 and 5 reached the tab before; the tab asked for them again, so the reader must reach them.
    expect(cursor.tryGoLive(3, stamp)).toBe(false);
    sendRange(cursor, 4, 5);
    expect(cursor.tryGoLive(5, stamp)).toBe(true);
  });

  it('while catching up: moves back and bumps the stamp, but the running reader goes on (false)', () => {
    const cursor = new StreamCursor();
    cursor.startAt(4);
    expect(cursor.resumeFrom(1)).toBe(false);
    expect(cursor.lastSeq).toBe(1);
    expect(cursor.stamp).toBe(OPENING_STAMP + 1);
    expect(cursor.resumeFrom(0)).toBe(false);
    expect(cursor.stamp).toBe(OPENING_STAMP + 2);
  });

  it('keeps a goal held while catching up that is above what was sent', () => {
    const cursor = new StreamCursor();
    cursor.startAt(5);
    cursor.judgeLive(9);
    cursor.resumeFrom(2);
    sendRange(cursor, 3, 8);
    expect(cursor.tryGoLive(8, cursor.stamp)).toBe(false);
    cursor.sent(9);
    expect(cursor.tryGoLive(9, cursor.stamp)).toBe(true);
  });

  it('moves forward too (a client that has more than it was sent), and may go live at once there', () => {
    const cursor = liveAt(3);
    expect(cursor.resumeFrom(5)).toBe(true);
    expect(cursor.lastSeq).toBe(5);
    expect(cursor.tryGoLive(5, cursor.stamp)).toBe(true);
  });

  it('is told apart from the stamp a reader took before it', () => {
    const cursor = liveAt(3);
    const before = cursor.stamp;
    cursor.resumeFrom(3);
    expect(cursor.stamp).not.toBe(before);
    expect(cursor.tryGoLive(3, before)).toBe(false);
    expect(cursor.tryGoLive(3, cursor.stamp)).toBe(true);
  });
});

describe('StreamCursor.recheck', () => {
  it('from live: asks for a reader once, keeps the position and the stamp', () => {
    const cursor = liveAt(4);
    expect(cursor.recheck()).toBe(true);
    expect(cursor.isLive).toBe(false);
    expect(cursor.lastSeq).toBe(4);
    expect(cursor.stamp).toBe(OPENING_STAMP);
    expect(cursor.recheck()).toBe(false);
    // Nothing new was offered: a read that finds nothing more lets it go live where it is.
    expect(cursor.tryGoLive(4, cursor.stamp)).toBe(true);
  });

  it('while catching up (a tab not opened yet, or with a reader): false', () => {
    const cursor = new StreamCursor();
    expect(cursor.recheck()).toBe(false);
    expect(cursor.isLive).toBe(false);
    expect(cursor.lastSeq).toBe(0);
  });

  // The running reader's read may predate the missed events (see the property below).
  it('while catching up: makes the running reader read once more before it may go live', () => {
    const cursor = new StreamCursor();
    cursor.startAt(3);
    const readerStamp = cursor.stamp;
    cursor.recheck();
    expect(cursor.tryGoLive(3, readerStamp)).toBe(false);
  });

  it('before the open: still lets open place the stream where the client asked', () => {
    const cursor = new StreamCursor();
    cursor.recheck();
    cursor.startAt(5);
    expect(cursor.lastSeq).toBe(5);
  });
});

describe('StreamCursor.tryGoLive', () => {
  it('refuses with a stale stamp', () => {
    const cursor = new StreamCursor();
    cursor.resumeFrom(0);
    expect(cursor.tryGoLive(0, OPENING_STAMP)).toBe(false);
    expect(cursor.isLive).toBe(false);
  });

  it('refuses while lastSeq is below what was read (the page was not all sent)', () => {
    const cursor = new StreamCursor();
    cursor.startAt(2);
    expect(cursor.tryGoLive(3, OPENING_STAMP)).toBe(false);
    expect(cursor.isLive).toBe(false);
    expect(cursor.tryGoLive(2, OPENING_STAMP)).toBe(true);
  });

  it('accepts a lastSeq above what was read', () => {
    const cursor = new StreamCursor();
    cursor.startAt(3);
    expect(cursor.tryGoLive(2, OPENING_STAMP)).toBe(true);
  });

  it('refuses while a goal above lastSeq was offered, and accepts once it is reached exactly', () => {
    const cursor = new StreamCursor();
    cursor.judgeLive(4);
    cursor.startAt(3);
    expect(cursor.tryGoLive(3, OPENING_STAMP)).toBe(false);
    expect(cursor.isLive).toBe(false);
    cursor.sent(4);
    expect(cursor.tryGoLive(4, OPENING_STAMP)).toBe(true);
    expect(cursor.isLive).toBe(true);
  });
});

/**
 * The model: one tab against an in-memory stream (seqs 1..head, stored before they are offered), driven by the
 * same steps as StreamSync: the open (head read, then start), live offers of any stored seq in any order and any
 * number of times (what the broker guarantees), resume requests, rechecks, and the one reader's steps (take the
 * stamp and position, read a page, send it one event at a time with a check of the stamp at every wait, then try
 * to go live after a short page). Any step may come between two steps of the reader, as awaits allow.
 */
type Step =
  | { kind: 'append'; count: number }
  | { kind: 'offer'; pick: number }
  | { kind: 'resume'; since: number }
  | { kind: 'recheck' }
  | { kind: 'open' }
  | { kind: 'reader' };

type Reader =
  | { phase: 'reading'; stamp: number; from: number }
  | { phase: 'sending'; stamp: number; page: number[]; index: number }
  | { phase: 'written'; stamp: number; short: boolean };

class ModelTab {
  readonly cursor = new StreamCursor();
  head = 0;
  private maxOffered = 0;
  /** The head when the tab last asked for the store to be read (its open, a resume): it may not be live below it. */
  private floor = 0;
  /** The seq the client must get next: set where its stream started, and again by each resume it asked for. */
  private expected: number | undefined;
  private resumed = false;
  private open: { phase: 'idle' } | { phase: 'head'; head: number } | { phase: 'done' } = { phase: 'idle' };
  private reader: Reader | undefined;
  /** What happened to the tab, for the message of a failed check. */
  private readonly log: string[] = [];

  constructor(
    private readonly since: number | undefined,
    private readonly pageSize: number,
    /** Whether a recheck raises the floor too: events stored before it may have been missed. */
    private readonly recheckRaisesFloor: boolean,
  ) {}

  run(step: Step): void {
    switch (step.kind) {
      case 'append':
        this.head += step.count;
        break;
      case 'offer':
        if (this.head > 0) this.offer(1 + (step.pick % this.head));
        break;
      case 'resume': {
        const since = Math.min(step.since, this.head);
        this.resumed = true;
        this.expected = since + 1;
        this.log.push(`resume ${since}`);
        this.floor = Math.max(this.floor, this.head);
        if (this.cursor.resumeFrom(since)) this.startReader();
        break;
      }
      case 'recheck':
        if (this.recheckRaisesFloor) this.floor = Math.max(this.floor, this.head);
        if (this.cursor.recheck()) this.startReader();
        break;
      case 'open':
        this.stepOpen();
        break;
      case 'reader':
        this.stepReader();
        break;
    }
    this.check();
  }

  /** Finishes the open, lets the reader end, then the newest event arrives once: the tab must be live at the head. */
  drain(): void {
    while (this.open.phase !== 'done') this.run({ kind: 'open' });
    this.runReaderOut();
    if (this.head > 0) this.run({ kind: 'offer', pick: this.head - 1 });
    this.runReaderOut();
    expect(this.cursor.isLive).toBe(true);
    expect(this.cursor.lastSeq).toBe(this.head);
  }

  offer(seq: number): void {
    this.maxOffered = Math.max(this.maxOffered, seq);
    const verdict = this.cursor.judgeLive(seq);
    if (verdict === 'next') this.send(seq);
    else if (verdict === 'gap') this.startReader();
  }

  private runReaderOut(): void {
    for (let steps = 0; this.reader !== undefined; steps++) {
      if (steps > 10_000) throw new Error('the reader never went live');
      this.run({ kind: 'reader' });
    }
  }

  private stepOpen(): void {
    if (this.open.phase === 'idle') {
      this.open = { phase: 'head', head: this.head };
    } else if (this.open.phase === 'head') {
      const { head } = this.open;
      const start = this.since === undefined ? head : Math.min(this.since, head);
      this.cursor.startAt(start);
      // The client's later request wins: a resume handled while the open waited sets where it continues.
      if (!this.resumed) {
        this.expected = start + 1;
        this.log.push(`start ${start}`);
      }
      this.open = { phase: 'done' };
      this.floor = Math.max(this.floor, head);
      if (!this.cursor.tryGoLive(head, OPENING_STAMP)) this.startReader();
    }
  }

  private startReader(): void {
    if (this.reader !== undefined) throw new Error('a second reader was asked for while one runs');
    this.reader = this.take();
  }

  private take(): Reader {
    return { phase: 'reading', stamp: this.cursor.stamp, from: this.cursor.lastSeq };
  }

  private stepReader(): void {
    const reader = this.reader;
    if (reader === undefined) return;
    switch (reader.phase) {
      case 'reading': {
        // The page is what the store holds when the read runs, which may be after more events were stored.
        const page = [];
        for (let seq = reader.from + 1; seq <= Math.min(this.head, reader.from + this.pageSize); seq++) page.push(seq);
        if (reader.stamp !== this.cursor.stamp) this.reader = this.take();
        else if (page.length === 0) this.reader = { phase: 'written', stamp: reader.stamp, short: true };
        else this.reader = { phase: 'sending', stamp: reader.stamp, page, index: 0 };
        return;
      }
      case 'sending':
        // A wait for the socket to drain: a resume meanwhile ends the page.
        if (reader.stamp !== this.cursor.stamp) return this.finish(reader.stamp, reader.page.length < this.pageSize);
        this.send(reader.page[reader.index]!);
        reader.index++;
        if (reader.index === reader.page.length) {
          this.reader = { phase: 'written', stamp: reader.stamp, short: reader.page.length < this.pageSize };
        }
        return;
      case 'written':
        return this.finish(reader.stamp, reader.short);
    }
  }

  private finish(stamp: number, short: boolean): void {
    if (short && this.cursor.tryGoLive(this.cursor.lastSeq, stamp)) this.reader = undefined;
    else this.reader = this.take();
  }

  private send(seq: number): void {
    expect(this.expected, `seq ${seq} sent before the stream started`).toBeDefined();
    expect(seq, this.log.join(' ')).toBe(this.expected);
    expect(seq).toBeLessThanOrEqual(this.head);
    this.log.push(String(seq));
    this.expected = seq + 1;
    this.cursor.sent(seq);
  }

  private check(): void {
    if (this.expected !== undefined) expect(this.cursor.lastSeq).toBe(this.expected - 1);
    if (this.cursor.isLive) {
      expect(this.reader).toBeUndefined();
      // Every offer was held for the reader or sent: a live tab has all of them, and all that it asked for.
      expect(this.cursor.lastSeq, this.log.join(' ')).toBeGreaterThanOrEqual(this.maxOffered);
      expect(this.cursor.lastSeq, this.log.join(' ')).toBeGreaterThanOrEqual(this.floor);
    } else if (this.open.phase === 'done') {
      // Catching up with no reader would be stuck: nothing else would ever send to it.
      expect(this.reader).toBeDefined();
    } else {
      expect(this.reader).toBeUndefined();
    }
  }
}

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('offer' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), since: fc.nat({ max: 40 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'recheck' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'open' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'reader' as const }) },
);

function consecutiveDelivery(recheckRaisesFloor: boolean): void {
  fc.assert(
    fc.property(
      fc.option(fc.nat({ max: 40 }), { nil: undefined }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(step, { maxLength: 120 }),
      (since, pageSize, steps) => {
        const tab = new ModelTab(since, pageSize, recheckRaisesFloor);
        for (const one of steps) tab.run(one);
        tab.drain();
      },
    ),
    { numRuns: 2000 },
  );
}

describe('property: a tab’s stream under any interleaving', () => {
  it('is consecutive from each resume point, never skips a stored event, never runs two readers, and is live only with all it asked for', () => {
    consecutiveDelivery(false);
  });

  // A reader (or an open) whose read was taken before the missed events were stored must not go live below them.
  // Shortest case: the open reads head 0, event 1 is stored and its broadcast lost, the resync rechecks: the open
  // may not go live at 0.
  it('is live only with every event stored before a recheck (a recheck while catching up is covered)', () => {
    consecutiveDelivery(true);
  });
});
