import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode, shouldReconnect } from '@herald/protocol';
import { ERROR_POLICY } from '../../src/errors.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const serverSource = join(root, 'packages/server/src');
const known = new Set<number>(Object.values(CloseCode));

/**
 * Close codes written as numbers where a socket is closed or refused: `x.close(1011, ...)`, `refuse(ws, 1008, ...)`,
 * or an admission's `code: 4029`. A name from CloseCode is what such a place should hold; a number is at least
 * checked to be in the table.
 */
const LITERAL_CLOSE = [/\b(?:close|refuse)\s*\(\s*(?:[\w.]+\s*,\s*)?(\d{4})\b/g, /\bcode:\s*(\d{4})\b/g];

function literalCloseCodes(text: string): number[] {
  return LITERAL_CLOSE.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => Number(match[1])));
}

/** The rows of the first Markdown table after `heading` in the README's WebSocket protocol section. */
function readmeTable(heading: string): string[][] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## WebSocket protocol'), readme.indexOf('\n## ', readme.indexOf('## WebSocket protocol') + 1));
  const start = section.indexOf(heading);
  expect(start, `${heading} in the WebSocket protocol section`).toBeGreaterThan(-1);
  const lines = section.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const table = lines.slice(first, lines.findIndex((line, index) => index > first && !line.startsWith('|')));
  // The header row and the |---| row are not data.
  return table.slice(2).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

describe('close codes are all in the table and in the README', () => {
  it('finds close codes written as numbers in a sample', () => {
    expect(literalCloseCodes("connection.close(1011, 'x'); refuse(ws, 1008, e); ws.close(4001); ({ ok: false, code: 4029 })")).toEqual([
      1011, 1008, 4001, 4029,
    ]);
    expect(literalCloseCodes('setTimeout(close, 1000); pool.close(true); close(CloseCode.Unauthorized)')).toEqual([]);
  });

  it('no source file of the server closes a socket with a number that is not a CloseCode', () => {
    const files = readdirSync(serverSource, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    const unknown = files.flatMap((file) =>
      literalCloseCodes(readFileSync(join(serverSource, file), 'utf8'))
        .filter((code) => !known.has(code))
        .map((code) => `${file}: ${code}`),
    );
    expect(unknown).toEqual([]);
  });

  it("the README's close table has exactly the CloseCode values, with the same reconnect advice", () => {
    const rows = readmeTable('**Close codes.**');
    expect(rows.map(([code]) => Number(code)).sort((a, b) => a - b)).toEqual([...known].sort((a, b) => a - b));
    for (const [code, , reconnect] of rows) {
      // "no: ..." and "only with a new token" are the codes after which the same connection must not be retried.
      expect({ code, reconnect: !/^(no|only)\b/.test(reconnect!) }).toEqual({ code, reconnect: shouldReconnect(Number(code)) });
    }
  });

  it("the README's error table has every ErrorCode with its status, close code and retry flag", () => {
    const rows = readmeTable('**Error codes.**');
    const documented = Object.fromEntries(
      rows.map(([code, status, closeCode, retry]) => [
        code!.replaceAll('`', ''),
        { status: Number(status), closeCode: Number(closeCode), retryable: /^yes\b/.test(retry!) },
      ]),
    );
    expect(documented).toEqual(Object.fromEntries(Object.values(ErrorCode).map((code) => [code, { ...ERROR_POLICY[code] }])));
  });
});
