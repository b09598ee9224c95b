import type { ColumnType, Generated } from 'kysely';
import type { StreamEventType } from '@herald/protocol';

/**
 * The tables as Kysely sees them, the same on SQLite and PostgreSQL. Seqs are 64-bit in both (SQLite's INTEGER;
 * `bigint` on PostgreSQL since migration 0002) and numbers here: the PostgreSQL pool reads bigint as a number
 * (create-store.ts), exact because every edge refuses a seq past Number.MAX_SAFE_INTEGER and a stream counts up
 * from 1. Since migration 0003 PostgreSQL keeps payloads as jsonb and times as timestamptz (see JsonColumn).
 */
export interface Database {
  user_streams: UserStreamsTable;
  events: EventsTable;
  notifications: NotificationsTable;
}

/**
 * One row per user that ever had an event: the seq counter whose row lock serialises that user's writers, and the
 * highest seq that retention removed from the stream (0 while nothing was), and how many notifications it has.
 */
export interface UserStreamsTable {
  user_id: string;
  last_seq: number;
  floor_seq: Generated<number>;
  notification_count: Generated<number>;
}

/**
 * A JSON value as the database hands it back: text on SQLite, already parsed on PostgreSQL (jsonb); written as
 * JSON text on both.
 */
export type JsonColumn = ColumnType<string | object, string, string>;
export type NullableJsonColumn = ColumnType<string | object | null, string | null, string | null>;

/**
 * A timestamp: ISO 8601 text on SQLite, timestamptz on PostgreSQL, which this pool reads back as the same ISO text
 * (create-store.ts); written as ISO text on both.
 */
export type Timestamp = string;

/** The stream: one row per event. A new_notification's row names its notification and carries no payload. */
export interface EventsTable {
  user_id: string;
  seq: number;
  type: StreamEventType;
  /** The producer's idempotency key, unique per user; null for events from the user's own actions. */
  key: string | null;
  /** The notification a new_notification created; null for the other types. */
  notification_id: string | null;
  /** The frame's payload; null for a new_notification, whose record the notifications row holds. */
  payload: NullableJsonColumn;
  /** UTF-8 bytes of the payload text a frame carries (for a new_notification, the record as created). */
  payload_bytes: number;
  created_at: Timestamp;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  /** The seq of the new_notification event that created it: the inbox's order and page cursor. */
  seq: number;
  key: string | null;
  category: string | null;
  status: 'unread' | 'read';
  seen_at: Timestamp | null;
  read_at: Timestamp | null;
  archived_at: Timestamp | null;
  expires_at: Timestamp | null;
  created_at: Timestamp;
  /** The actions as a JSON array; null when the producer gave none. */
  actions: NullableJsonColumn;
  actioned_id: string | null;
  actioned_at: Timestamp | null;
  payload: JsonColumn;
  /** UTF-8 bytes of the producer's payload as JSON text. */
  payload_bytes: number;
}
