import type { StreamEventType } from '@herald/protocol';
import type { BroadcastMessage } from '../broker/broker.js';
import { fail, ok, type Result } from '../result.js';
import type { StoredEvent } from '../store/store.js';

/**
 * The messages nodes send each other over Redis pub/sub, as JSON text. In memory each has a `kind`; on the wire
 * the kind is the key that is present, byte for byte what earlier versions send, so that nodes of both can mix:
 *
 *   broker, on a user's channel:      {"node":"<id>","event":{"userId","seq","type","payload","createdAt"}}
 *   broker, on the broadcast channel: {"node":"<id>","broadcast":{"type","payload"}}
 *   presence:                         {"node":"<id>","user":"<id>","online":true|false}  or  {"node":"<id>","gone":true}
 *
 * Decoding checks every field it reads and copies only those: a field it does not know is ignored (a later
 * version may add one without older nodes dropping the message), a known field of the wrong type drops the
 * message. Nothing from the wire is cast: an event's `type` is spliced unescaped into the client frame, so it
 * must be one of the stream's names, and a `payloadJson` a peer might send is never kept (the frame would reuse it).
 */

/** What a node publishes for the nodes holding a user's connections, or for every node. */
export type BrokerMessage =
  | { readonly kind: 'event'; readonly node: string; readonly event: StoredEvent }
  | { readonly kind: 'broadcast'; readonly node: string; readonly broadcast: BroadcastMessage }
  /** Everything stored for `user` was erased: every node closes the user's connections. */
  | { readonly kind: 'erased'; readonly node: string; readonly user: string };

/** A user's first tab opened on a node (`online`), its last closed (`offline`), or the node left (`gone`). */
export type PresenceMessage =
  | { readonly kind: 'online'; readonly node: string; readonly user: string }
  | { readonly kind: 'offline'; readonly node: string; readonly user: string }
  | { readonly kind: 'gone'; readonly node: string };

/** Why a message was dropped: `reason` is one of a few fixed words (logged once each), `detail` names the field. */
export interface WireRejection {
  readonly reason: 'not JSON' | 'not an object' | 'unknown kind' | 'ambiguous kind' | 'invalid field';
  readonly detail: string;
}

// A Record, so that a stream event type added to the protocol fails to compile here until it is listed.
const STREAM_EVENT_TYPES: Readonly<Record<StreamEventType, true>> = {
  new_notification: true,
  task_update: true,
  notification_read: true,
  all_read: true,
  notification_updated: true,
  notification_deleted: true,
};

export function encodeBrokerMessage(message: BrokerMessage): string {
  if (message.kind === 'event') {
    // Field by field: the payload once, without the JSON text a local store may have kept beside it.
    const { userId, seq, type, payload, createdAt } = message.event;
    return JSON.stringify({ node: message.node, event: { userId, seq, type, payload, createdAt } });
  }
  if (message.kind === 'erased') return JSON.stringify({ node: message.node, erased: message.user });
  const { type, payload } = message.broadcast;
  return JSON.stringify({ node: message.node, broadcast: { type, payload } });
}

export function encodePresenceMessage(message: PresenceMessage): string {
  if (message.kind === 'gone') return JSON.stringify({ node: message.node, gone: true });
  return JSON.stringify({ node: message.node, user: message.user, online: message.kind === 'online' });
}

export function decodeBrokerMessage(text: string): Result<BrokerMessage, WireRejection> {
  const envelope = parseEnvelope(text);
  if (!envelope.ok) return envelope;
  const { node, fields } = envelope.value;
  const hasEvent = fields['event'] !== undefined;
  const hasBroadcast = fields['broadcast'] !== undefined;
  if (hasEvent && hasBroadcast) return fail({ reason: 'ambiguous kind', detail: 'both event and broadcast' });
  if (fields['erased'] !== undefined) {
    if (hasEvent || hasBroadcast) return fail({ reason: 'ambiguous kind', detail: 'erased beside an event or broadcast' });
    const user = fields['erased'];
    return isId(user) ? ok({ kind: 'erased', node, user }) : invalid('erased must be a non-empty string');
  }
  if (hasEvent) {
    const event = decodeEvent(fields['event']);
    return event.ok ? ok({ kind: 'event', node, event: event.value }) : event;
  }
  if (hasBroadcast) {
    const broadcast = decodeBroadcast(fields['broadcast']);
    return broadcast.ok ? ok({ kind: 'broadcast', node, broadcast: broadcast.value }) : broadcast;
  }
  return fail({ reason: 'unknown kind', detail: 'neither event nor broadcast' });
}

export function decodePresenceMessage(text: string): Result<PresenceMessage, WireRejection> {
  const envelope = parseEnvelope(text);
  if (!envelope.ok) return envelope;
  const { node, fields } = envelope.value;
  const { gone, user, online } = fields;
  if (gone !== undefined && user !== undefined) return fail({ reason: 'ambiguous kind', detail: 'both gone and user' });
  if (gone !== undefined) return gone === true ? ok({ kind: 'gone', node }) : invalid('gone must be true');
  if (user === undefined) return fail({ reason: 'unknown kind', detail: 'neither user nor gone' });
  if (!isId(user)) return invalid('user must be a non-empty string');
  if (typeof online !== 'boolean') return invalid('online must be a boolean');
  return ok({ kind: online ? 'online' : 'offline', node, user });
}

/** The JSON object and its `node`, which every message carries. */
function parseEnvelope(text: string): Result<{ node: string; fields: Record<string, unknown> }, WireRejection> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail({ reason: 'not JSON', detail: 'the message is not valid JSON' });
  }
  if (!isObject(value)) return fail({ reason: 'not an object', detail: 'the message must be a JSON object' });
  if (!isId(value['node'])) return invalid('node must be a non-empty string');
  return ok({ node: value['node'], fields: value });
}

function decodeEvent(value: unknown): Result<StoredEvent, WireRejection> {
  if (!isObject(value)) return invalid('event must be an object');
  const { userId, seq, type, payload, createdAt } = value;
  if (!isId(userId)) return invalid('event.userId must be a non-empty string');
  // Seqs start at 1; past 2^53 a number no longer names one seq, and the gap check would go wrong.
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return invalid('event.seq must be a positive safe integer');
  if (!isStreamEventType(type)) return invalid('event.type must be a stream event type');
  if (!isObject(payload)) return invalid('event.payload must be an object');
  if (typeof createdAt !== 'string') return invalid('event.createdAt must be a string');
  return ok({ userId, seq, type, payload, createdAt });
}

function decodeBroadcast(value: unknown): Result<BroadcastMessage, WireRejection> {
  if (!isObject(value)) return invalid('broadcast must be an object');
  const { type, payload } = value;
  if (typeof type !== 'string') return invalid('broadcast.type must be a string');
  if (!isObject(payload)) return invalid('broadcast.payload must be an object');
  return ok({ type, payload });
}

function invalid(detail: string): { readonly ok: false; readonly error: WireRejection } {
  return fail({ reason: 'invalid field', detail });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStreamEventType(value: unknown): value is StreamEventType {
  return typeof value === 'string' && Object.hasOwn(STREAM_EVENT_TYPES, value);
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
