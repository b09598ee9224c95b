import { rawConnection } from './raw-http.js';

export interface RawAnswer {
  status: number;
  /** Lower-cased names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
  /** Everything the server wrote. */
  raw: string;
}

/**
 * One GET with the target exactly as written (fetch would normalise `..`, `%2e` and `\`, and a conditional fetch
 * adds `Cache-Control: no-cache`), on its own connection, read until the server closes it.
 */
export async function rawGet(baseUrl: string, target: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const connection = await rawConnection(baseUrl);
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  connection.socket.write(`GET ${target} HTTP/1.1\r\nHost: herald\r\n${extra}Connection: close\r\n\r\n`);
  await connection.closed;
  const raw = connection.received();
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const parsed: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers: parsed, body: rest.join('\r\n\r\n'), raw };
}
