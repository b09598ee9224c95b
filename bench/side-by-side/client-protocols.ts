import { handshakeProtocols, WS_PATH } from '../../packages/protocol/src/handshake.js';
import type { ServerKind } from './servers.js';

/** What a frame meant to the load generator. */
export type FrameKind = 'event' | 'ready' | 'other';

/**
 * How the load generator speaks to one kind of server over a plain `ws` client: the same client for all three,
 * so that differences are the servers'. Frames are classified by their first bytes or a substring, never by
 * JSON.parse: the load generator must stay cheaper than the server it measures.
 */
export interface ClientProtocol {
  /** The WebSocket URL; `since` is the last seq seen (Herald resumes from it). */
  url(base: string, since: number): string;
  protocols(token: string): string[];
  /** True when the WebSocket's open event means authenticated and subscribed. */
  readyOnOpen: boolean;
  /** Classifies a frame and answers what needs an answer (pings, Socket.IO's handshake). */
  onFrame(data: Buffer, send: (text: string) => void, token: string): FrameKind;
}

/** Every published and broadcast payload carries the publisher's clock in `sent`. */
export const SENT_MARK = Buffer.from('"sent":');

const HERALD_PING = Buffer.from('{"type":"ping"');
const HERALD_PONG = JSON.stringify({ type: 'pong', payload: {} });

const heraldLike = (answerPings: boolean): ClientProtocol => ({
  url: (base, since) => `${base}${WS_PATH}${since > 0 ? `?since=${since}` : ''}`,
  protocols: handshakeProtocols,
  readyOnOpen: true,
  onFrame(data, send) {
    if (data.indexOf(SENT_MARK) >= 0) return 'event';
    if (answerPings && data.subarray(0, HERALD_PING.length).equals(HERALD_PING)) send(HERALD_PONG);
    return 'other';
  },
});

// Engine.IO 4 over a WebSocket: "0{...}" opens, "40" connects the default namespace (with `auth` as its data),
// "44" refuses it, "2" is the server's ping to answer with "3", "42[...]" carries an event.
const socketio: ClientProtocol = {
  url: (base) => `${base}/socket.io/?EIO=4&transport=websocket`,
  protocols: () => [],
  readyOnOpen: false,
  onFrame(data, send, token) {
    const first = data[0];
    const second = data[1];
    if (first === 0x34 /* 4 */ && second === 0x32 /* 2 */) return data.indexOf(SENT_MARK) >= 0 ? 'event' : 'other';
    if (first === 0x32 /* 2 */ && data.length === 1) send('3');
    else if (first === 0x30 /* 0 */) send(`40${JSON.stringify({ token })}`);
    else if (first === 0x34 && second === 0x30) return 'ready';
    else if (first === 0x34 && second === 0x34) throw new Error('Socket.IO refused the connection');
    return 'other';
  },
};

export const CLIENT_PROTOCOLS: Record<ServerKind, ClientProtocol> = {
  herald: heraldLike(true),
  ws: heraldLike(false),
  socketio,
};

/** Reads the number after `"sent":` without decoding the frame. */
export function sentAt(data: Buffer, markAt: number): number {
  let end = markAt + SENT_MARK.length;
  while (end < data.length) {
    const byte = data[end]!;
    if ((byte < 0x30 || byte > 0x39) && byte !== 0x2e /* . */) break;
    end++;
  }
  return Number(data.toString('latin1', markAt + SENT_MARK.length, end));
}

/** The publisher's clock: epoch milliseconds with sub-millisecond digits, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
