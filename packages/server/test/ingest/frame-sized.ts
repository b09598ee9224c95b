/**
 * Payloads whose frame has an exact size, for the tests of "what is accepted fits one frame". The frame shapes
 * are written out here from the protocol (README's frames), not taken from src/, so that a size src/ gets wrong
 * shows up as a frame that does not have the size the test built it for.
 */

/** The longest seq Herald numbers (Number.MAX_SAFE_INTEGER): the size Herald holds against the bound counts it. */
export const LONGEST_SEQ = '9007199254740991';
const A_UUID = '2f1d3c4b-5a69-4788-9a0b-c1d2e3f40516';
const A_TIMESTAMP = '2026-12-01T12:00:00.000Z';

export type StreamType = 'new_notification' | 'task_update';

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The bytes of the stream frame of an event with this payload JSON, counted with a 16-digit seq. */
export function eventFrameSize(type: StreamType, payloadJson: string, key: string | null = null): number {
  if (type === 'task_update') return bytes(`{"type":"task_update","seq":${LONGEST_SEQ},"payload":${payloadJson}}`);
  const notification =
    `{"id":"${A_UUID}","key":${key === null ? 'null' : JSON.stringify(key)},"status":"unread",` +
    `"created_at":"${A_TIMESTAMP}","read_at":null,"payload":${payloadJson}}`;
  return bytes(`{"type":"new_notification","seq":${LONGEST_SEQ},"payload":${notification}}`);
}

/** The bytes of the broadcast frame of this payload JSON (no seq: exact). */
export function broadcastFrameSize(type: StreamType, payloadJson: string): number {
  return bytes(`{"type":"${type}","broadcast":true,"payload":${payloadJson}}`);
}

/** What a stream frame of `seq` really takes once sent: the counted size with the seq's own digits. */
export function sentSize(countedSize: number, seq: number): number {
  return countedSize - LONGEST_SEQ.length + String(seq).length;
}

export interface SizedPayload {
  /** The payload as a value: what JSON.parse(text) gives, and what a library caller passes. */
  value: Record<string, unknown>;
  /** The payload as a producer may write it, numbers as `1e20` (5 bytes each). */
  text: string;
  /** The payload as every frame holds it (JSON.stringify of value): each `1e20` becomes 21 digits. */
  wire: string;
}

export interface SizeOptions {
  /**
   * The character the padding is made of: `"` and `\n` take two bytes in JSON, `é` two in UTF-8, an emoji four
   * (and two UTF-16 units); a remainder the character cannot fill is made up with `x`.
   */
  pad?: string;
  /**
   * Numbers written `1e20`, which JSON.stringify writes as 100000000000000000000: a body 5 bytes long per
   * number becomes a frame 22 long, so a body under a small HERALD_MAX_BODY_BYTES reaches the frame bound.
   */
  bigNumbers?: number;
}

/** A payload whose frame, as `frameSize` counts it, is `target` bytes. */
export function sizedPayload(frameSize: (payloadJson: string) => number, target: number, options: SizeOptions = {}): SizedPayload {
  const { pad = 'x', bigNumbers = 0 } = options;
  const numbers = Array.from({ length: bigNumbers }, () => 1e20);
  const make = (padding: string): SizedPayload => {
    const value = { n: numbers, pad: padding };
    const text = `{"n":[${numbers.map(() => '1e20').join(',')}],"pad":${JSON.stringify(padding)}}`;
    return { value, text, wire: JSON.stringify(value) };
  };
  const room = target - frameSize(make('').wire);
  if (room < 0) throw new Error(`a frame of ${target} bytes cannot hold ${bigNumbers} big numbers`);
  const width = bytes(JSON.stringify(pad)) - 2;
  const sized = make(pad.repeat(Math.floor(room / width)) + 'x'.repeat(room % width));
  if (frameSize(sized.wire) !== target) throw new Error(`built a frame of ${frameSize(sized.wire)} bytes, not ${target}`);
  if (JSON.stringify(JSON.parse(sized.text)) !== sized.wire) throw new Error('the payload text does not parse to its value');
  return sized;
}
