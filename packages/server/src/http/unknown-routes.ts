import { ErrorCode } from '@herald/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { sendError } from './error-handler.js';

/**
 * Answers what no route takes in Herald's error shape: 405 with `Allow` when the path has routes for other
 * methods (RFC 9110 §15.5.6), 404 otherwise. Call before any route is added: the methods of each path are
 * collected as routes are. Exact paths count, and paths with parameters (`/users/:user_id`) for every path they
 * match; a wildcard (the page's `/assets/*`, CORS's `OPTIONS *`) claims no path for this, so a wrong method there
 * is a 404 like any missing file.
 */
export function answerUnknownRoutes(app: FastifyInstance): void {
  const methodsByPath = new Map<string, Set<string>>();
  const withParameters: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    if (route.url.includes('*')) return;
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const method of ([] as HTTPMethods[]).concat(route.method)) methods.add(method.toUpperCase());
    if (!methodsByPath.has(route.url) && route.url.includes('/:')) withParameters.push({ pattern: patternOf(route.url), methods });
    methodsByPath.set(route.url, methods);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = methodsByPath.get(path) ?? withParameters.find(({ pattern }) => pattern.test(path))?.methods;
    if (allowed === undefined || allowed.has(request.method)) {
      return sendError(request, reply, ErrorCode.NotFound, `No route at ${path}`);
    }
    const allow = [...allowed].sort().join(', ');
    void reply.header('allow', allow);
    sendError(request, reply, ErrorCode.MethodNotAllowed, `${path} takes ${allow}, not ${request.method}`);
  });
}

/** A route path with `:name` segments as a pattern of the paths it takes: any one segment for each parameter. */
function patternOf(url: string): RegExp {
  const segments = url.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${segments.join('/')}$`);
}
