import { describe, expect, it } from 'vitest';
import { CloseCode, needsNewToken, shouldReconnect } from '../src/index.js';

/** What a client is told to do after each close code Herald sends: the README's close table, in code. */
const EXPECTED: Record<keyof typeof CloseCode, { code: number; reconnect: boolean; newToken: boolean }> = {
  PolicyViolation: { code: 1008, reconnect: false, newToken: false },
  MessageTooBig: { code: 1009, reconnect: true, newToken: false },
  InternalError: { code: 1011, reconnect: true, newToken: false },
  ServiceRestart: { code: 1012, reconnect: true, newToken: false },
  Unauthorized: { code: 4001, reconnect: false, newToken: true },
  TokenExpired: { code: 4002, reconnect: true, newToken: true },
  UserErased: { code: 4004, reconnect: true, newToken: false },
  SlowConsumer: { code: 4008, reconnect: true, newToken: false },
  TooManyConnections: { code: 4029, reconnect: true, newToken: false },
  TooManyFrames: { code: 4030, reconnect: true, newToken: false },
};

describe('close codes', () => {
  it('are exactly the codes Herald sends, each once', () => {
    expect(Object.fromEntries(Object.entries(CloseCode))).toEqual(
      Object.fromEntries(Object.entries(EXPECTED).map(([name, { code }]) => [name, code])),
    );
    expect(new Set(Object.values(CloseCode)).size).toBe(Object.values(CloseCode).length);
  });

  it.each(Object.entries(EXPECTED))('%s: reconnect and new-token advice', (name, expected) => {
    const code = CloseCode[name as keyof typeof CloseCode];
    expect({ reconnect: shouldReconnect(code), newToken: needsNewToken(code) }).toEqual({
      reconnect: expected.reconnect,
      newToken: expected.newToken,
    });
  });

  it('advises a retry, with the same token, after a code Herald does not send (a dropped connection, a normal close)', () => {
    for (const code of [1000, 1001, 1006, 1013]) {
      expect(shouldReconnect(code)).toBe(true);
      expect(needsNewToken(code)).toBe(false);
    }
  });
});
