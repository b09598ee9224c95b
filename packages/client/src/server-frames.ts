import {
  ErrorCode,
  type BroadcastFrame,
  type ClientFrame,
  type ConnectedFrame,
  type ErrorFrame,
  type ResetFrame,
  type ServerFrame,
  type StreamFrame,
} from '@herald/protocol';

/** What the client does with each kind of frame Herald sends; pong and token_refreshed need nothing. */
export interface ServerFrameHandlers {
  connected(payload: ConnectedFrame['payload']): void;
  /** The resume could not be served from the store; the stream continues after `payload.seq`. */
  reset(payload: ResetFrame['payload']): void;
  ping(): void;
  /** An `error` frame, or a text that is not JSON. */
  error(payload: ErrorFrame['payload']): void;
  tokenExpired(graceMs: number): void;
  broadcast(frame: BroadcastFrame): void;
  stream(frame: StreamFrame): void;
}

/**
 * Reads one text from Herald and hands the frame to its handler. Herald is trusted to send well-formed frames, so
 * beyond JSON only the fields that choose the handler are looked at; a frame of none of the known kinds is dropped.
 */
export function dispatchServerFrame(data: unknown, handlers: ServerFrameHandlers): void {
  let frame: ServerFrame;
  try {
    frame = JSON.parse(String(data)) as ServerFrame;
  } catch {
    return handlers.error({ code: ErrorCode.InvalidJson, message: 'Herald sent a frame that is not JSON' });
  }
  switch (frame.type) {
    case 'connected':
      return handlers.connected(frame.payload);
    case 'reset':
      return handlers.reset(frame.payload);
    case 'ping':
      return handlers.ping();
    case 'pong':
    case 'token_refreshed':
      return;
    case 'error':
      return handlers.error(frame.payload);
    case 'token_expired':
      return handlers.tokenExpired(frame.payload.grace_ms);
    default:
      if ('broadcast' in frame) handlers.broadcast(frame);
      else if (typeof frame.seq === 'number') handlers.stream(frame);
  }
}

/** The text of a frame the client sends. */
export function encodeClientFrame(frame: ClientFrame): string {
  return JSON.stringify(frame);
}

/** The answer to every ping, the same each time. */
export const PONG = encodeClientFrame({ type: 'pong', payload: {} });
