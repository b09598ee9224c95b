import WebSocket from 'ws';
import { HeraldClient } from '../../packages/client/src/index.js';

export interface FleetReport {
  clients: number;
  /** Events each client should have had (its user's), summed over clients. */
  expected: number;
  delivered: number;
  missing: number;
  /** Deliveries of an event the application had already seen, after the SDK's own seq check. */
  duplicates: number;
  reconnects: number;
  /** Produce-to-deliver latency, ms. */
  latency: { p50: number; p99: number; max: number };
  /** The longest time, while events were flowing, in which no client received anything, ms. */
  longestPauseMs: number;
}

interface Tab {
  user: string;
  client: HeraldClient;
  seen: Set<number>;
  duplicates: number;
  reconnects: number;
}

/** A few thousand tabs (HeraldClient over `ws`), several per user, each counting what its application receives. */
export class ClientFleet {
  private readonly tabs: Tab[] = [];
  /** [when the event was produced, how long it took to arrive], per delivery. */
  private readonly deliveries: Array<[number, number]> = [];
  private lastDelivery = 0;
  private longestPause = 0;
  private watching = false;

  constructor(
    private readonly url: string,
    private readonly token: (user: string) => Promise<string>,
  ) {}

  async open(clients: number, users: number): Promise<void> {
    for (let i = 0; i < clients; i++) {
      const user = `chaos-user-${i % users}`;
      const client = new HeraldClient({
        url: this.url,
        token: () => this.token(user),
        WebSocket,
        reconnect: { initialDelayMs: 200, maxDelayMs: 5000 },
      });
      const tab: Tab = { user, client, seen: new Set(), duplicates: 0, reconnects: 0 };
      client.on('new_notification', (notification) => this.onDelivery(tab, notification.payload as { n: number; sent: number }));
      client.on('state', (state) => {
        if (state === 'reconnecting') tab.reconnects++;
      });
      client.connect();
      this.tabs.push(tab);
      // Spread the handshakes a little; a storm is another benchmark's subject.
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await this.until(() => this.tabs.every((tab) => tab.client.state === 'open'), 60_000);
  }

  /** Starts or stops measuring the longest pause (only while events are being produced). */
  watchPauses(on: boolean): void {
    this.watching = on;
    this.lastDelivery = Date.now();
  }

  async until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return true;
  }

  /** Waits until every tab has every event produced for its user (or the timeout). */
  drained(perUser: Map<string, Set<number>>, timeoutMs: number): Promise<boolean> {
    return this.until(() => this.tabs.every((tab) => (perUser.get(tab.user)?.size ?? 0) === tab.seen.size), timeoutMs);
  }

  report(perUser: Map<string, Set<number>>): FleetReport {
    let expected = 0;
    let delivered = 0;
    let missing = 0;
    for (const tab of this.tabs) {
      const wanted = perUser.get(tab.user) ?? new Set<number>();
      expected += wanted.size;
      delivered += tab.seen.size;
      for (const n of wanted) if (!tab.seen.has(n)) missing++;
    }
    return {
      clients: this.tabs.length,
      expected,
      delivered,
      missing,
      duplicates: this.tabs.reduce((sum, tab) => sum + tab.duplicates, 0),
      reconnects: this.tabs.reduce((sum, tab) => sum + tab.reconnects, 0),
      latency: this.latency(0, Number.POSITIVE_INFINITY),
      longestPauseMs: this.longestPause,
    };
  }

  /** Produce-to-deliver latency of the events produced in [from, to). */
  latency(from: number, to: number): { p50: number; p99: number; max: number } {
    const sorted = this.deliveries
      .filter(([sent]) => sent >= from && sent < to)
      .map(([, took]) => took)
      .sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
  }

  /** The tabs still missing events, for the report: who, in which state, and which event numbers. */
  stuck(perUser: Map<string, Set<number>>, limit = 10): Array<{ user: string; state: string; lastSeq: number | undefined; missing: number[] }> {
    const stuck = [];
    for (const tab of this.tabs) {
      const missing = [...(perUser.get(tab.user) ?? [])].filter((n) => !tab.seen.has(n));
      if (missing.length > 0) stuck.push({ user: tab.user, state: tab.client.state, lastSeq: tab.client.lastSeq, missing: missing.slice(0, 20) });
    }
    return stuck.slice(0, limit);
  }

  /** How many tabs are missing at least one event. */
  stuckCount(perUser: Map<string, Set<number>>): number {
    return this.tabs.filter((tab) => (perUser.get(tab.user)?.size ?? 0) !== tab.seen.size).length;
  }

  close(): void {
    for (const tab of this.tabs) tab.client.close();
  }

  private onDelivery(tab: Tab, payload: { n: number; sent: number }): void {
    const now = Date.now();
    if (tab.seen.has(payload.n)) tab.duplicates++;
    else tab.seen.add(payload.n);
    this.deliveries.push([payload.sent, now - payload.sent]);
    if (this.watching) this.longestPause = Math.max(this.longestPause, now - this.lastDelivery);
    this.lastDelivery = now;
  }
}
