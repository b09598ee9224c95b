import type { NewNotification, NotificationAction } from '@herald/protocol';
import { createdRecord, createdRecordJson, type CreatedParts } from './event-rows.js';
import type { StoredEvent } from './store.js';

/**
 * From rows to what the Store returns. A JSON column is text on SQLite and already parsed on PostgreSQL (jsonb),
 * so each reader takes both: text is kept as the frame's text (a SQLite replay does not serialise again), a parsed
 * value is serialised once (jsonb keeps no text: its own output has spaces and its own key order; JSON.stringify
 * gives back as many bytes as were stored, so a replayed frame is never larger than the one that was sent live).
 */

/** A JSON column's value as text and as a value. */
export function jsonColumn<T>(value: string | object): { text: string; value: T } {
  return typeof value === 'string' ? { text: value, value: JSON.parse(value) as T } : { text: JSON.stringify(value), value: value as T };
}

/** The notification columns a record is built from (the same names in every query that reads them). */
export interface NotificationColumns {
  id: string;
  key: string | null;
  category: string | null;
  status: 'unread' | 'read';
  seen_at: string | null;
  read_at: string | null;
  archived_at: string | null;
  expires_at: string | null;
  created_at: string;
  actions: string | object | null;
  actioned_id: string | null;
  actioned_at: string | null;
  payload: string | object;
}

/**
 * A notification as the Store lists it: the record with the fields that are unset left out (fullNotification()
 * fills them in for the REST API), so a notification stored before they existed reads exactly as it did.
 */
export function toInboxItem(row: NotificationColumns): NewNotification {
  const actions = row.actions === null ? null : jsonColumn<NotificationAction[]>(row.actions).value;
  return {
    id: row.id,
    key: row.key,
    ...(row.category === null ? {} : { category: row.category }),
    status: row.status,
    ...(row.seen_at === null ? {} : { seen_at: row.seen_at }),
    created_at: row.created_at,
    read_at: row.read_at,
    ...(row.archived_at === null ? {} : { archived_at: row.archived_at }),
    ...(row.expires_at === null ? {} : { expires_at: row.expires_at }),
    ...(actions === null ? {} : { actions }),
    ...(row.actioned_id === null ? {} : { actioned: { id: row.actioned_id, at: row.actioned_at! } }),
    payload: jsonColumn<Record<string, unknown>>(row.payload).value,
  };
}

/** A stream row as eventsAfter reads it: the event's columns and, for a new_notification, its notification's. */
export interface StreamColumns {
  user_id: string;
  seq: number;
  type: StoredEvent['type'];
  created_at: string;
  notification_id: string | null;
  payload: string | object | null;
  n_id: string | null;
  n_key: string | null;
  n_category: string | null;
  n_expires_at: string | null;
  n_created_at: string | null;
  n_actions: string | object | null;
  n_payload: string | object | null;
}

/**
 * The event of a stream row. A new_notification is the record it created, rebuilt from its notification row
 * (createdRecordJson, the text the live frame had). One whose notification is gone (deleted, expired, past the
 * user's limit) is replayed as its notification_deleted at the same seq: the stream keeps its seqs without a gap,
 * and a client that replays it ends where a live one did.
 */
export function toStoredEvent(row: StreamColumns): StoredEvent {
  const base = { userId: row.user_id, seq: row.seq, createdAt: row.created_at };
  if (row.type !== 'new_notification') {
    const payload = jsonColumn<Record<string, unknown>>(row.payload!);
    return { ...base, type: row.type, payload: payload.value, payloadJson: payload.text };
  }
  if (row.n_id === null) {
    const payload = { notification_ids: [row.notification_id!] };
    return { ...base, type: 'notification_deleted', payload, payloadJson: JSON.stringify(payload) };
  }
  const actions = row.n_actions === null ? null : jsonColumn<NotificationAction[]>(row.n_actions);
  const parts: CreatedParts = {
    id: row.n_id,
    key: row.n_key,
    category: row.n_category,
    createdAt: row.n_created_at!,
    expiresAt: row.n_expires_at,
    actionsJson: actions?.text ?? null,
  };
  const payload = jsonColumn<Record<string, unknown>>(row.n_payload!);
  return {
    ...base,
    type: 'new_notification',
    payload: createdRecord(parts, actions?.value ?? null, payload.value),
    payloadJson: createdRecordJson(parts, payload.text),
  };
}
