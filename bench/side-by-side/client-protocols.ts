import { handshakeProtocols, WS_PATH } from '../../packages/protocol/src/handshake.js';
import type { ServerKind } from './server-kinds.js';

/** What a frame meant to the load generator. */
export type FrameKind = 'event' | 'ready' | 'other';

/**
 * How the load generator speaks to one kind of server over a plain `ws` client: the same client for all of them,
 * so that differences are the servers'. Frames are classified by their first bytes or a substring, never by
 * JSON.parse: the load generator must stay cheaper than the server it measures. A frame may carry several events
 * (Centrifugo puts up to 16 messages in one): the load generator counts every `"sent":` in an event or ready frame.
 */
export interface ClientProtocol {
  /** The WebSocket URL; `since` is the last seq seen (Herald resumes from it). */
  url(base: string, since: number): string;
  protocols(token: string): string[];
  /** True when the WebSocket's open event means authenticated and subscribed. */
  readyOnOpen: boolean;
  /** What the client sends first, once the WebSocket is open (Centrifugo's connect command). */
  onOpen?(send: (text: string) => void, token: string): void;
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

// Centrifugo's JSON protocol: the client's first frame is a connect command with the token; the reply to it
// (id 1) lists the server-side subscriptions, so it means subscribed. Messages in one frame are separated by
// newlines. The server's ping is an empty object `{}`, answered with one; publications arrive as pushes.
const CENTRIFUGO_PUSH = Buffer.from('{"push":');
const CENTRIFUGO_CONNECTED = Buffer.from('{"id":1,"connect":');
const CENTRIFUGO_REFUSED = Buffer.from('{"id":1,"error":');
const CENTRIFUGO_PING = Buffer.from('{}');
const CENTRIFUGO_PING_LINE = Buffer.from('\n{}');

const centrifugo: ClientProtocol = {
  url: (base) => `${base}/connection/websocket`,
  protocols: () => [],
  readyOnOpen: false,
  onOpen(send, token) {
    send(JSON.stringify({ id: 1, connect: { token } }));
  },
  onFrame(data, send) {
    // JSON has no raw newline inside a message, so a ping is a whole frame, the first line or a later line.
    const pingFirst = data.subarray(0, 2).equals(CENTRIFUGO_PING);
    if (pingFirst || data.indexOf(CENTRIFUGO_PING_LINE) >= 0) send('{}');
    // What follows a leading ping is classified as if it came alone (its own ping already answered).
    const rest = pingFirst ? data.subarray(3) : data;
    if (rest.subarray(0, CENTRIFUGO_PUSH.length).equals(CENTRIFUGO_PUSH)) return rest.indexOf(SENT_MARK) >= 0 ? 'event' : 'other';
    if (rest.indexOf(CENTRIFUGO_CONNECTED) >= 0) return 'ready';
    if (rest.indexOf(CENTRIFUGO_REFUSED) >= 0) throw new Error(`Centrifugo refused the connection: ${rest.toString().slice(0, 200)}`);
    return 'other';
  },
};

export const CLIENT_PROTOCOLS: Record<ServerKind, ClientProtocol> = {
  herald: heraldLike(true),
  ws: heraldLike(false),
  socketio,
  centrifugo,
  'centrifugo-history': centrifugo,
};

/** Calls `each` with the offset of every `"sent":` in a frame; returns how many there were. */
export function forEachSent(data: Buffer, each?: (markAt: number) => void): number {
  let count = 0;
  for (let at = data.indexOf(SENT_MARK); at >= 0; at = data.indexOf(SENT_MARK, at + SENT_MARK.length)) {
    count++;
    each?.(at);
  }
  return count;
}

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
