import pino, { type DestinationStream, type Logger } from 'pino';

/** JWKS members that are private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1): never written anywhere. */
const JWK_PRIVATE_FIELDS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/**
 * JSON logs on stdout, at every level free of secrets: Authorization, Cookie and the token subprotocol header,
 * token query parameters, the raw bytes of a request Node's parser refused (fastify logs the parser's error,
 * `rawPacket` included, at trace), and the private members of JSON Web Keys are redacted wherever they appear.
 * `destination` is stdout unless given (tests read what would be written).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: [
        ...['req.headers', 'headers', 'request.headers'].flatMap((at) =>
          ['authorization', 'cookie', '["sec-websocket-protocol"]', '["x-api-key"]'].map((name) => `${at}${name.startsWith('[') ? '' : '.'}${name}`),
        ),
        'token',
        'apiKey',
        'password',
        // A request Node's parser refused: its error carries everything the client sent, token and key included.
        'err.rawPacket',
        'err.cause.rawPacket',
        'error.rawPacket',
        ...JWK_PRIVATE_FIELDS.flatMap((field) => [`jwk.${field}`, `keys[*].${field}`, `jwks.keys[*].${field}`]),
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (request: { method?: string; url?: string }) => ({ method: request.method, url: redactUrl(request.url) }),
      err: serializeError,
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export function redactUrl(url: string | undefined): string | undefined {
  return url?.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

/**
 * pino's error serializer, with the messages' URLs stripped of their passwords and query tokens: a driver's or
 * fetch's error can quote the connection string or the URL it was given.
 */
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (serialized === null || typeof serialized !== 'object') return serialized;
  for (const key of ['message', 'stack'] as const) {
    if (typeof serialized[key] === 'string') serialized[key] = redactSecretsInText(serialized[key]);
  }
  return serialized;
}

/** `scheme://user:password@host` → `scheme://user:***@host`, and `token=…` in any URL query → `token=[redacted]`. */
export function redactSecretsInText(text: string): string {
  return redactUrl(text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):[^@/\s]*@/gi, '$1:***@'))!;
}
