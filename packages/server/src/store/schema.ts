import type { StreamEventType } from '@herald/protocol';

/**
 * The tables as Kysely sees them, the same on SQLite and PostgreSQL. Seqs are 64-bit in both (SQLite's INTEGER;
 * `bigint` on PostgreSQL since migration 0002) and numbers here: the PostgreSQL pool reads bigint as a number
 * (create-store.ts), exact because every edge refuses a seq past Number.MAX_SAFE_INTEGER and a stream counts up
 * from 1. Payloads are JSON text so that one query layer serves both.
 */
export interface Database {
  user_streams: UserStreamsTable;
  events: EventsTable;
  notifications: NotificationsTable;
}

/** One row per user that ever had an event: the seq counter whose row lock serialises that user's writers. */
export interface UserStreamsTable {
  user_id: string;
  last_seq: number;
}

export interface EventsTable {
  user_id: string;
  seq: number;
  type: StreamEventType;
  /** The producer's idempotency key, unique per user; null for events from the user's own actions. */
  key: string | null;
  payload: string;
  created_at: string;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  /** The seq of the new_notification event that created it: the inbox's order and page cursor. */
  seq: number;
  key: string | null;
  status: 'unread' | 'read';
  created_at: string;
  read_at: string | null;
  payload: string;
}
