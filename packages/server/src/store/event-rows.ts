import { randomUUID } from 'node:crypto';
import type { Notification } from '@herald/protocol';
import type { AppendInput, StoredEvent } from './store.js';

/** One input numbered and serialised for storing: every JSON text it needs is made here, once. */
export interface EventRows {
  /** The event as returned and delivered; its payloadJson is the events row's payload column. */
  event: StoredEvent & { payloadJson: string };
  /** The inbox row's own columns, for a new_notification; null for the other types. */
  notification: { id: string; payloadJson: string } | null;
}

/**
 * The event and inbox rows of `input` at `seq`. A new_notification's payload is serialised once: the event's
 * text (the whole Notification) is built around it by concatenation instead of serialising the payload again,
 * and the frame sent to every tab reuses that text too (see encodeEvent). The parts around it are a UUID, an
 * ISO timestamp and a JSON-escaped key, so the text is exactly what JSON.stringify(event.payload) gives.
 */
export function eventRows(input: AppendInput, seq: number, createdAt: string): EventRows {
  const { userId, type, key, payload } = input;
  const payloadJson = JSON.stringify(payload);
  if (type !== 'new_notification') {
    return { event: { userId, seq, type, payload, payloadJson, createdAt }, notification: null };
  }
  const id = randomUUID();
  const notification: Notification = { id, key, status: 'unread', created_at: createdAt, read_at: null, payload };
  const notificationJson =
    `{"id":"${id}","key":${key === null ? 'null' : JSON.stringify(key)},"status":"unread",` +
    `"created_at":"${createdAt}","read_at":null,"payload":${payloadJson}}`;
  return {
    event: { userId, seq, type, payload: { ...notification }, payloadJson: notificationJson, createdAt },
    notification: { id, payloadJson },
  };
}

/** The timestamp of a batch: one for all of its events, which are stored in one transaction. */
export function batchTimestamp(): string {
  return new Date().toISOString();
}
