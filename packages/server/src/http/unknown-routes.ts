import { ErrorCode } from '@herald/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { sendError } from './error-handler.js';

/**
 * Answers what no route takes in Herald's error shape: 405 with `Allow` when the path has routes for other
 * methods (RFC 9110 §15.5.6), 404 otherwise. Call before any route is added: the methods of each path are
 * collected as routes are. Only exact paths count; a wildcard (the page's `/assets/*`, CORS's `OPTIONS *`) claims
 * no path for this, so a wrong method there is a 404 like any missing file.
 */
export function answerUnknownRoutes(app: FastifyInstance): void {
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (route.url.includes('*')) return;
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const method of ([] as HTTPMethods[]).concat(route.method)) methods.add(method.toUpperCase());
    methodsByPath.set(route.url, methods);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = methodsByPath.get(path);
    if (allowed === undefined || allowed.has(request.method)) {
      return sendError(request, reply, ErrorCode.NotFound, `No route at ${path}`);
    }
    const allow = [...allowed].sort().join(', ');
    void reply.header('allow', allow);
    sendError(request, reply, ErrorCode.MethodNotAllowed, `${path} takes ${allow}, not ${request.method}`);
  });
}
