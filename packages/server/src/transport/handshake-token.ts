import type { IncomingMessage } from 'node:http';
import { TOKEN_SUBPROTOCOL_PREFIX } from '@herald/protocol';
import { unauthorized } from '../errors.js';

/**
 * The one token an upgrade carries: from `herald.token.<jwt>` subprotocols, `token` query parameters and
 * `Authorization: Bearer` headers together. Every value given must be the same, or the upgrade is refused as
 * unauthorized: a proxy that authorises on one of these places could otherwise be passed with a good token there
 * while Herald verified another one somewhere else. An empty value is a value (`?token=` beside a subprotocol
 * token is two values). Undefined when no place carries one.
 */
export function handshakeToken(request: IncomingMessage, url: URL): string | undefined {
  const values = new Set([
    ...protocolTokens(request.headers['sec-websocket-protocol']),
    ...url.searchParams.getAll('token'),
    // headersDistinct: Node keeps only the first of repeated Authorization headers in `headers`.
    ...bearerCredentials(request.headersDistinct['authorization']),
  ]);
  if (values.size > 1) throw unauthorized('Token given more than once with different values');
  return values.values().next().value;
}

/** Every token offered as a `herald.token.<jwt>` subprotocol (Node joins repeated headers with commas). */
function protocolTokens(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header
    .split(',')
    .map((entry) => entry.trim())
    .filter((protocol) => protocol.startsWith(TOKEN_SUBPROTOCOL_PREFIX))
    .map((protocol) => protocol.slice(TOKEN_SUBPROTOCOL_PREFIX.length));
}

/**
 * What follows `Bearer` in each Authorization header that uses that scheme, trimmed, empty or not. Another scheme
 * (a browser's cached Basic credentials for the site, say) carries no Herald token and is not counted.
 */
function bearerCredentials(headers: string[] | undefined): string[] {
  const credentials: string[] = [];
  for (const header of headers ?? []) {
    const match = /^\s*Bearer(?:\s+(.*?))?\s*$/i.exec(header);
    if (match) credentials.push(match[1] ?? '');
  }
  return credentials;
}
