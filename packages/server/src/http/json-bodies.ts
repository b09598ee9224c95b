import type { FastifyInstance } from 'fastify';

/**
 * JSON is the only body Herald reads. An empty body under `Content-Type: application/json` is no body, as without
 * the header (fetch wrappers and HTTP clients send the header on every POST): a route that takes none, such as
 * mark-all-read, accepts it, and one that needs a body refuses it as missing. Fastify's own JSON parser, with its
 * refusal of `__proto__` and `constructor` keys, reads every other body. Plain text, which Fastify would parse
 * too, is refused (415) like any other type: no route takes it, and a cross-site form can send it without a
 * CORS preflight.
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // parseAs 'string': Fastify hands the body over as text, never as a Buffer.
    const text = body as string;
    if (text === '') return done(null, undefined);
    parseJson(request, text, done);
  });
}
