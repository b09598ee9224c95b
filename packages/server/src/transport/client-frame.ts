import { ErrorCode, type ClientFrame } from '@herald/protocol';
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { fail, ok, type Result } from '../result.js';
import { describeSchemaError } from '../schema-errors.js';
import { Since } from './since.js';

const ResumePayload = Compile(Type.Object({ since: Since }));
const AnyPayload = Compile(Type.Object({}));
// Far above a real JWT; the verifier has its own, lower, cap (8 KB).
const RefreshPayload = Compile(Type.Object({ token: Type.String({ minLength: 1, maxLength: 16_384 }) }));

/** Why a frame was refused: the error frame's code and message (the connection stays open). */
export interface FrameError {
  code: ErrorCode;
  message: string;
}

export type DecodeResult = Result<ClientFrame, FrameError>;

/** Validates one client text frame; the caller answers a failure with an error frame and keeps the connection. */
export function decodeClientFrame(text: string): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail({ code: ErrorCode.InvalidJson, message: 'Frame is not valid JSON' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail({ code: ErrorCode.InvalidFrame, message: 'Frame must be a JSON object with a "type"' });
  }
  const { type, payload } = value as { type?: unknown; payload?: unknown };
  if (typeof type !== 'string') {
    return fail({ code: ErrorCode.InvalidFrame, message: 'type must be a string' });
  }
  switch (type) {
    case 'ping':
    case 'pong':
      if (payload !== undefined && !AnyPayload.Check(payload)) {
        return fail({ code: ErrorCode.InvalidFrame, message: 'payload must be an object' });
      }
      return ok({ type });
    case 'resume':
      if (!ResumePayload.Check(payload)) {
        return fail({ code: ErrorCode.InvalidFrame, message: describeSchemaError('payload', ResumePayload.Errors(payload)) });
      }
      return ok({ type, payload: { since: payload.since } });
    case 'refresh':
      if (!RefreshPayload.Check(payload)) {
        return fail({ code: ErrorCode.InvalidFrame, message: describeSchemaError('payload', RefreshPayload.Errors(payload)) });
      }
      return ok({ type, payload: { token: payload.token } });
    default:
      return fail({ code: ErrorCode.UnknownType, message: `Unknown frame type "${truncate(type)}"` });
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
