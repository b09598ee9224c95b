import { randomUUID } from 'node:crypto';
import type { Notification } from '@herald/protocol';
import type { EventsTable, NotificationsTable } from './schema.js';
import type { AppendInput, StoredEvent } from './store.js';

/** A stored event with its payload's JSON text, which is what the events row's payload column holds. */
export type SerialisedEvent = StoredEvent & { payloadJson: string };

/** One input numbered and serialised for storing: every JSON text it needs is made here, once. */
export interface EventRows {
  /** The event as returned and delivered. */
  event: SerialisedEvent;
  eventRow: EventsTable;
  /** The inbox row, for a new_notification; null for the other types. */
  notificationRow: NotificationsTable | null;
}

/**
 * The event and inbox rows of `input` at `seq`: the one place an appended row's columns get their values (see
 * append-plan.ts for what else a new column needs). A new_notification's payload is serialised once: the event's
 * text (the whole Notification) is built around it by concatenation instead of serialising the payload again,
 * and the frame sent to every tab reuses that text too (see encodeEvent). The parts around it are a UUID, an
 * ISO timestamp and a JSON-escaped key, so the text is exactly what JSON.stringify(event.payload) gives.
 */
export function eventRows(input: AppendInput, seq: number, createdAt: string): EventRows {
  const { userId, type, key, payload } = input;
  const payloadJson = JSON.stringify(payload);
  if (type !== 'new_notification') {
    const event = { userId, seq, type, payload, payloadJson, createdAt };
    return { event, eventRow: eventsRow(event, key), notificationRow: null };
  }
  const id = randomUUID();
  const notification: Notification = { id, key, status: 'unread', created_at: createdAt, read_at: null, payload };
  const notificationJson =
    `{"id":"${id}","key":${key === null ? 'null' : JSON.stringify(key)},"status":"unread",` +
    `"created_at":"${createdAt}","read_at":null,"payload":${payloadJson}}`;
  const event = { userId, seq, type, payload: { ...notification }, payloadJson: notificationJson, createdAt };
  const notificationRow: NotificationsTable = {
    id,
    user_id: userId,
    seq,
    key,
    status: 'unread',
    created_at: createdAt,
    read_at: null,
    payload: payloadJson,
  };
  return { event, eventRow: eventsRow(event, key), notificationRow };
}

/** The events row of `event`; also the row of the events a user's own actions make (see SqlStore.markRead). */
export function eventsRow(event: SerialisedEvent, key: string | null): EventsTable {
  return {
    user_id: event.userId,
    seq: event.seq,
    type: event.type,
    key,
    payload: event.payloadJson,
    created_at: event.createdAt,
  };
}

/** The timestamp of a batch: one for all of its events, which are stored in one transaction. */
export function batchTimestamp(): string {
  return new Date().toISOString();
}
