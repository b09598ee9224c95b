import pino, { type Logger } from 'pino';

/**
 * JSON logs on stdout. Authorization headers, the token subprotocol header and token query parameters are
 * redacted wherever they appear.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'req.headers["sec-websocket-protocol"]',
        'headers["sec-websocket-protocol"]',
        'token',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (request: { method?: string; url?: string }) => ({ method: request.method, url: redactUrl(request.url) }),
    },
  });
}

export function redactUrl(url: string | undefined): string | undefined {
  return url?.replace(/([?&]token=)[^&]*/gi, '$1[redacted]');
}
