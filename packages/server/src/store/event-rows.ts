import type { NewNotification, NotificationAction } from '@herald/protocol';
import type { Insertable } from 'kysely';
import { newNotificationId } from './notification-id.js';
import type { EventsTable, NotificationsTable } from './schema.js';
import type { AppendInput, StoredEvent } from './store.js';

/** A stored event with its payload's JSON text, which is what a frame carries. */
export type SerialisedEvent = StoredEvent & { payloadJson: string };

export type EventRow = Insertable<EventsTable>;
export type NotificationRow = Insertable<NotificationsTable>;

/** One input numbered and serialised for storing: every JSON text it needs is made here, once. */
export interface EventRows {
  /** The event as returned and delivered. */
  event: SerialisedEvent;
  eventRow: EventRow;
  /** The inbox row, for a new_notification; null for the other types. */
  notificationRow: NotificationRow | null;
}

/** What a notification is created with: the parts of its record that never change. */
export interface CreatedParts {
  id: string;
  key: string | null;
  category: string | null;
  createdAt: string;
  expiresAt: string | null;
  /** The actions' JSON text, null without actions. */
  actionsJson: string | null;
}

/**
 * The event and inbox rows of `input` at `seq`: the one place an appended row's columns get their values (see
 * append-plan.ts for what else a new column needs). A new_notification's payload is serialised once: the record
 * that the event carries is built around it by concatenation (createdRecordJson) instead of serialising the
 * payload again, the frame sent to every tab reuses that text (see encodeEvent), and the stream row stores only its
 * size: a replay builds the same text from the notification row.
 */
export function eventRows(input: AppendInput, seq: number, createdAt: string): EventRows {
  const { userId, type, key, payload } = input;
  const payloadJson = JSON.stringify(payload);
  if (type !== 'new_notification') {
    const event = { userId, seq, type, payload, payloadJson, createdAt };
    return { event, eventRow: eventsRow(event, key), notificationRow: null };
  }
  const actions = input.actions ?? null;
  const parts: CreatedParts = {
    id: newNotificationId(),
    key,
    category: input.category ?? null,
    createdAt,
    expiresAt: input.expiresAt ?? null,
    actionsJson: actions === null || actions.length === 0 ? null : JSON.stringify(actions),
  };
  const notificationJson = createdRecordJson(parts, payloadJson);
  const event = { userId, seq, type, payload: createdRecord(parts, actions, payload), payloadJson: notificationJson, createdAt };
  const notificationRow: NotificationRow = {
    id: parts.id,
    user_id: userId,
    seq,
    key,
    category: parts.category,
    status: 'unread',
    seen_at: null,
    read_at: null,
    archived_at: null,
    expires_at: parts.expiresAt,
    created_at: createdAt,
    actions: parts.actionsJson,
    actioned_id: null,
    actioned_at: null,
    payload: payloadJson,
    payload_bytes: Buffer.byteLength(payloadJson),
  };
  const eventRow: EventRow = {
    user_id: userId,
    seq,
    type,
    key,
    notification_id: parts.id,
    payload: null,
    payload_bytes: Buffer.byteLength(notificationJson),
    created_at: createdAt,
  };
  return { event, eventRow, notificationRow };
}

/**
 * The record a new_notification carries, as JSON text: exactly JSON.stringify(createdRecord(...)), built by
 * concatenation around texts already made. The optional fields appear only when set, so a notification without
 * them is the text it was before they existed (a stream stored before migration 0003 replays byte for byte).
 * The parts around the payload are a UUID, ISO timestamps, JSON-escaped key and category, and the actions' text.
 */
export function createdRecordJson(parts: CreatedParts, payloadJson: string): string {
  const { id, key, category, createdAt, expiresAt, actionsJson } = parts;
  return (
    `{"id":"${id}","key":${key === null ? 'null' : JSON.stringify(key)},` +
    (category === null ? '' : `"category":${JSON.stringify(category)},`) +
    `"status":"unread","created_at":"${createdAt}","read_at":null,` +
    (expiresAt === null ? '' : `"expires_at":"${expiresAt}",`) +
    (actionsJson === null ? '' : `"actions":${actionsJson},`) +
    `"payload":${payloadJson}}`
  );
}

/** The record a new_notification carries, as an object with the keys in createdRecordJson's order. */
export function createdRecord(
  parts: CreatedParts,
  actions: readonly NotificationAction[] | null,
  payload: Record<string, unknown>,
): NewNotification {
  const { id, key, category, createdAt, expiresAt } = parts;
  // Built field by field in createdRecordJson's order: no spread of optional parts on every append.
  const record: NewNotification = { id, key } as NewNotification;
  if (category !== null) record.category = category;
  record.status = 'unread';
  record.created_at = createdAt;
  record.read_at = null;
  if (expiresAt !== null) record.expires_at = expiresAt;
  if (actions !== null && actions.length > 0) record.actions = [...actions];
  record.payload = payload;
  return record;
}

/** The events row of `event`; also the row of the events a user's own actions make (see SqlStore.markRead). */
export function eventsRow(event: SerialisedEvent, key: string | null): EventRow {
  return {
    user_id: event.userId,
    seq: event.seq,
    type: event.type,
    key,
    notification_id: null,
    payload: event.payloadJson,
    payload_bytes: Buffer.byteLength(event.payloadJson),
    created_at: event.createdAt,
  };
}

/** The timestamp of a batch: one for all of its events, which are stored in one transaction. */
export function batchTimestamp(): string {
  return new Date().toISOString();
}
