import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { problemOf } from './problem';

/** The parts of an Express 5 router layer this module reads. */
interface RouteLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
  match(path: string): boolean;
}

/** Express 5 keeps the app router at `app.router`. */
function routeLayers(expressApp: unknown): RouteLayer[] {
  const router = (expressApp as { router?: { stack?: RouteLayer[] } }).router;
  return (router?.stack ?? []).filter((l) => l.route);
}

/** Methods the routes matching `path` answer (HEAD with GET, OPTIONS always), upper case. */
export function allowedMethods(expressApp: unknown, path: string): string[] {
  const methods = new Set<string>();
  for (const layer of routeLayers(expressApp)) {
    let hit: boolean;
    try {
      hit = layer.match(path);
    } catch {
      hit = false; // a malformed percent-encoding in the path: not this route
    }
    if (!hit) continue;
    for (const [m, on] of Object.entries(layer.route!.methods)) if (on && m !== '_all') methods.add(m.toUpperCase());
  }
  if (methods.size === 0) return [];
  if (methods.has('GET')) methods.add('HEAD');
  methods.add('OPTIONS');
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  return [...methods].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

/**
 * 405 with `Allow` for a method a known path does not answer, and `OPTIONS` on a known path
 * answered with 204 and `Allow`. Unknown paths fall through to the 404 problem. Runs before the
 * body parser, so the method is judged before the body is read.
 */
export function methodNotAllowedMiddleware(expressApp: () => unknown) {
  return (req: Request, res: Response, next: NextFunction) => {
    const allowed = allowedMethods(expressApp(), req.path);
    if (allowed.length === 0 || (allowed.includes(req.method) && req.method !== 'OPTIONS')) return next();
    res.setHeader('Allow', allowed.join(', '));
    if (req.method === 'OPTIONS') return void res.status(204).end();
    const problem = problemOf('method_not_allowed', 405, `${req.method} is not allowed on ${req.path}; allowed: ${allowed.join(', ')}`, { allowed }, req.originalUrl);
    res.status(405).type('application/problem+json').send(JSON.stringify(problem));
  };
}

const STATUS_LINES: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Node answers a request it cannot parse (headers over --max-http-header-size, a malformed
 * request line, a header timeout) itself with a bare status line. With this listener those
 * answers are problem+json too: 431 `header_fields_too_large` (also a too long URL), 408
 * `request_timeout`, 400 `malformed_request`.
 */
export function installClientErrorHandler(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const [status, code, detail] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'header_fields_too_large', 'the request line and headers exceed the server limit (a URL or header too long)']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout', 'the request headers did not arrive in time']
          : [400, 'malformed_request', 'the request is not valid HTTP/1.1'];
    const body = JSON.stringify(problemOf(code, status, detail));
    socket.end(`HTTP/1.1 ${status} ${STATUS_LINES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** application/json or any application/*+json. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * 415 `unsupported_media_type` for a request body that is not JSON (every route of the suite
 * takes JSON), on known paths only: an unknown path stays a 404 whatever it carries.
 */
export function unsupportedMediaTypeMiddleware(expressApp: () => unknown) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!BODY_METHODS.has(req.method) || !requestHasBody(req) || isJsonMediaType(req.headers['content-type'])) return next();
    if (allowedMethods(expressApp(), req.path).length === 0) return next();
    const problem = problemOf(
      'unsupported_media_type',
      415,
      `request bodies are application/json, not ${req.headers['content-type'] ?? 'a body without a content type'}`,
      { accepted: ['application/json'] },
      req.originalUrl,
    );
    res.status(415).type('application/problem+json').send(JSON.stringify(problem));
  };
}

/** A request carries a body when it is chunked or declares a non-zero length. */
export function requestHasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const n = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(n) && n > 0;
}
