import type { ConnectedFrame, ErrorCode } from '@herald/protocol';
import type { BroadcastMessage } from '../broker/broker.js';
import type { StoredEvent } from '../store/store.js';

/** Frames are serialised once per event and the same Buffer goes to every socket. */
export function encodeEvent(event: StoredEvent): Buffer {
  return Buffer.from(JSON.stringify({ type: event.type, seq: event.seq, payload: event.payload }));
}

export function encodeBroadcast(message: BroadcastMessage): Buffer {
  return Buffer.from(JSON.stringify({ type: message.type, broadcast: true, payload: message.payload }));
}

export function encodeConnected(payload: ConnectedFrame['payload']): Buffer {
  return Buffer.from(JSON.stringify({ type: 'connected', payload }));
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
