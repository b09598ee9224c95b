import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { Since, sinceFromQuery } from '../../src/transport/since.js';

const notAnInteger = { ok: false, error: 'since must be a non-negative integer' };

describe('sinceFromQuery', () => {
  it('starts at the head when since is absent', () => {
    expect(sinceFromQuery([])).toEqual({ ok: true, value: undefined });
  });

  it('takes one non-negative integer', () => {
    expect(sinceFromQuery(['0'])).toEqual({ ok: true, value: 0 });
    expect(sinceFromQuery(['7'])).toEqual({ ok: true, value: 7 });
    expect(sinceFromQuery(['123456'])).toEqual({ ok: true, value: 123456 });
  });

  it('refuses two values, equal or not: the start would depend on which one a reader picks', () => {
    expect(sinceFromQuery(['1', '2'])).toEqual({ ok: false, error: 'since must be given once' });
    expect(sinceFromQuery(['1', '1'])).toEqual({ ok: false, error: 'since must be given once' });
    expect(sinceFromQuery(['', ''])).toEqual({ ok: false, error: 'since must be given once' });
  });

  it.each([
    ['an empty value', ''],
    ['a negative one', '-1'],
    ['an exponent', '1e3'],
    ['a leading space', ' 7'],
    ['a trailing space', '7 '],
    ['hexadecimal', '0x10'],
    ['a fraction', '1.5'],
    ['a decimal point', '1.0'],
    ['a plus sign', '+1'],
    ['Infinity', 'Infinity'],
    ['NaN', 'NaN'],
    ['a word', 'latest'],
    ['digits of another script', '٣'],
  ])('refuses %s (%j), which Number() would take or turn into something', (_, text) => {
    expect(sinceFromQuery([text])).toEqual(notAnInteger);
  });

  it('takes the largest safe integer and refuses the next', () => {
    expect(sinceFromQuery(['9007199254740991'])).toEqual({ ok: true, value: Number.MAX_SAFE_INTEGER });
    expect(sinceFromQuery(['9007199254740992'])).toEqual(notAnInteger);
    expect(sinceFromQuery(['9999999999999999'])).toEqual(notAnInteger);
  });

  it('refuses 17 digits and more, leading zeros or not', () => {
    expect(sinceFromQuery(['10000000000000000'])).toEqual(notAnInteger);
    expect(sinceFromQuery(['00000000000000001'])).toEqual(notAnInteger);
    expect(sinceFromQuery(['1'.repeat(400)])).toEqual(notAnInteger);
  });

  it('reads leading zeros as the number they lead, within 16 digits', () => {
    expect(sinceFromQuery(['007'])).toEqual({ ok: true, value: 7 });
    expect(sinceFromQuery(['00'])).toEqual({ ok: true, value: 0 });
    expect(sinceFromQuery(['0000000000000042'])).toEqual({ ok: true, value: 42 });
  });
});

describe('Since, the schema of the resume frame’s since', () => {
  const check = Compile(Since);

  it('takes the same range as the query: 0 up to the largest safe integer', () => {
    expect(check.Check(0)).toBe(true);
    expect(check.Check(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(check.Check(Number.MAX_SAFE_INTEGER + 1)).toBe(false);
    expect(check.Check(-1)).toBe(false);
    expect(check.Check(1.5)).toBe(false);
    expect(check.Check('7')).toBe(false);
  });
});
