import { expect } from 'vitest';
import type { TestGateway } from './gateway.js';
import type { Change, CountsBody, ListFilter, Target } from './inbox-model.js';
import { TestClient, type Frame } from './ws-client.js';

/** The route of each change. */
export const CHANGE_PATHS: Record<Change, string> = {
  seen: '/notifications/mark-seen',
  read: '/notifications/mark-read',
  unread: '/notifications/mark-unread',
  archive: '/notifications/archive',
  unarchive: '/notifications/unarchive',
  delete: '/notifications/delete',
};

/** The stream event each change pushes. */
export const CHANGE_EVENTS: Record<Change, string> = {
  seen: 'notification_updated',
  read: 'notification_read',
  unread: 'notification_updated',
  archive: 'notification_updated',
  unarchive: 'notification_updated',
  delete: 'notification_deleted',
};

export interface Counts extends CountsBody {
  seq: number;
}

/** The inbox fields a publish item may carry besides user_id and type. */
export interface ItemFields {
  payload?: Record<string, unknown>;
  id?: string;
  category?: string;
  expires_at?: string;
  ttl_s?: number;
  actions?: Array<{ id: string; label: string; url?: string }>;
}

/** One user's side of the inbox API on a running gateway: real HTTP requests with a fresh token each. */
export class InboxApi {
  constructor(
    readonly gateway: TestGateway,
    readonly userId: string,
  ) {}

  /** Publishes these new_notifications in one batch; returns their ids in publish order. */
  async publish(items: ItemFields[]): Promise<string[]> {
    const response = await this.gateway.publish(
      items.map((fields, index) => ({ user_id: this.userId, type: 'new_notification', payload: { n: index }, ...fields })),
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.stored).toBe(items.length);
    return response.body.events.map((event: { notification_id: string }) => event.notification_id);
  }

  async counts(): Promise<Counts> {
    const response = await this.gateway.asUser(this.userId, '/notifications/counts');
    expect(response.status).toBe(200);
    return response.body;
  }

  /** Every listed record under these parameters, walking all pages of `limit`. */
  async list(filter: ListFilter = {}, limit = 100): Promise<any[]> {
    const items: any[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const query = new URLSearchParams({ ...(filter as Record<string, string>), limit: String(limit), ...(cursor !== null && { cursor }) });
      const response = await this.gateway.asUser(this.userId, `/notifications?${query}`);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      items.push(...response.body.items);
      cursor = response.body.next_cursor;
      if (cursor === null) return items;
    }
    throw new Error('more than 50 pages');
  }

  async listIds(filter: ListFilter = {}, limit = 100): Promise<string[]> {
    return (await this.list(filter, limit)).map((item) => item.id);
  }

  async record(id: string): Promise<any> {
    const found = (await this.list({ archived: 'all' })).find((item) => item.id === id);
    expect(found, `notification ${id} is listed`).toBeDefined();
    return found;
  }

  change(change: Change, target: Target | unknown): Promise<{ status: number; body: any }> {
    return this.gateway.asUser(this.userId, CHANGE_PATHS[change], { body: target });
  }

  act(notificationId: string, actionId: string): Promise<{ status: number; body: any }> {
    return this.gateway.asUser(this.userId, `/notifications/${encodeURIComponent(notificationId)}/actions/${encodeURIComponent(actionId)}`, {
      method: 'POST',
    });
  }

  /** Opens `count` tabs of this user and waits until each is connected. */
  async openTabs(count: number): Promise<TestClient[]> {
    const tabs = await Promise.all(Array.from({ length: count }, async () => TestClient.open(this.gateway.wsUrl, await this.gateway.token(this.userId))));
    await Promise.all(tabs.map((tab) => tab.waitForType('connected')));
    return tabs;
  }
}

/** The stream events every tab holds up to `seq`, checked to be the same on each tab, without a gap or a repeat. */
export async function eventsOnEveryTab(tabs: readonly TestClient[], seq: number): Promise<Frame[]> {
  const lists = await Promise.all(tabs.map((tab) => tab.waitForSeq(seq)));
  const first = lists[0]!;
  for (const list of lists.slice(1)) expect(list).toEqual(first);
  const seqs = first.map((event) => event.seq!);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, index) => seqs[0]! + index));
  return first;
}

/** The counts without their seq: what an event's `counts` carries. */
export function countsBody({ unread, unseen, categories }: Counts): CountsBody {
  return { unread, unseen, categories };
}

/** An ISO timestamp as Herald writes every time: toISOString's form, UTC with milliseconds. */
export const isoTime = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
