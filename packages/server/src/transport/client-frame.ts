import { ErrorCode, type ClientFrame } from '@herald/protocol';
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { describeSchemaError } from '../schema-errors.js';

const ResumePayload = Compile(Type.Object({ since: Type.Integer({ minimum: 0 }) }));
const AnyPayload = Compile(Type.Object({}));
// Far above a real JWT; the verifier has its own, lower, cap (8 KB).
const RefreshPayload = Compile(Type.Object({ token: Type.String({ minLength: 1, maxLength: 16_384 }) }));

export type DecodeResult = { ok: true; frame: ClientFrame } | { ok: false; code: ErrorCode; message: string };

/** Validates one client text frame; the caller answers a failure with an error frame and keeps the connection. */
export function decodeClientFrame(text: string): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: ErrorCode.InvalidJson, message: 'Frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: ErrorCode.InvalidFrame, message: 'Frame must be a JSON object with a "type"' };
  }
  const { type, payload } = value as { type?: unknown; payload?: unknown };
  if (typeof type !== 'string') {
    return { ok: false, code: ErrorCode.InvalidFrame, message: 'type must be a string' };
  }
  switch (type) {
    case 'ping':
    case 'pong':
      if (payload !== undefined && !AnyPayload.Check(payload)) {
        return { ok: false, code: ErrorCode.InvalidFrame, message: 'payload must be an object' };
      }
      return { ok: true, frame: { type } };
    case 'resume':
      if (!ResumePayload.Check(payload)) {
        return { ok: false, code: ErrorCode.InvalidFrame, message: describeSchemaError('payload', ResumePayload.Errors(payload)) };
      }
      return { ok: true, frame: { type, payload: { since: payload.since } } };
    case 'refresh':
      if (!RefreshPayload.Check(payload)) {
        return { ok: false, code: ErrorCode.InvalidFrame, message: describeSchemaError('payload', RefreshPayload.Errors(payload)) };
      }
      return { ok: true, frame: { type, payload: { token: payload.token } } };
    default:
      return { ok: false, code: ErrorCode.UnknownType, message: `Unknown frame type "${truncate(type)}"` };
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
