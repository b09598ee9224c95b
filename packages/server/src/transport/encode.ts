import type { ConnectedFrame, ErrorCode } from '@herald/protocol';
import type { BroadcastMessage } from '../broker/broker.js';
import type { StoredEvent } from '../store/store.js';

/**
 * Frames are serialised once per event and the same Buffer goes to every socket. The payload's JSON text is
 * reused when the store made it (type is one of the stream's fixed names, seq an integer: neither needs escaping).
 */
export function encodeEvent(event: StoredEvent): Buffer {
  const payload = event.payloadJson ?? JSON.stringify(event.payload);
  return Buffer.from(`{"type":"${event.type}","seq":${event.seq},"payload":${payload}}`);
}

export function encodeBroadcast(message: BroadcastMessage): Buffer {
  return Buffer.from(JSON.stringify({ type: message.type, broadcast: true, payload: message.payload }));
}

export function encodeConnected(payload: ConnectedFrame['payload']): Buffer {
  return Buffer.from(JSON.stringify({ type: 'connected', payload }));
}

/** Tells a client that the stream it resumes is no longer kept whole: reload, then take the events after `seq`. */
export function encodeReset(seq: number): Buffer {
  return Buffer.from(JSON.stringify({ type: 'reset', payload: { seq } }));
}

export function encodeError(code: ErrorCode, message: string): Buffer {
  return Buffer.from(JSON.stringify({ type: 'error', payload: { code, message } }));
}

export function encodeTokenExpired(graceMs: number): Buffer {
  return Buffer.from(JSON.stringify({ type: 'token_expired', payload: { grace_ms: graceMs } }));
}

export function encodeTokenRefreshed(expiresAt: number | undefined): Buffer {
  return Buffer.from(JSON.stringify({ type: 'token_refreshed', payload: { expires_at: expiresAt ?? null } }));
}

export const PING_FRAME = Buffer.from(JSON.stringify({ type: 'ping', payload: {} }));
export const PONG_FRAME = Buffer.from(JSON.stringify({ type: 'pong', payload: {} }));
