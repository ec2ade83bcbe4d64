import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';

/**
 * An error with a stable machine-readable code, rendered as RFC 9457 problem+json.
 * Codes are part of the API: clients switch on them; never rename one.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemOf(code: string, status: number, detail: string, extra: Record<string, unknown> = {}, instance?: string): Problem {
  return {
    type: `https://recsys-suite.dev/problems/${code}`,
    title: TITLES[status] ?? HttpStatus[status] ?? 'Error',
    status,
    detail,
    code,
    ...(instance ? { instance } : {}),
    ...extra,
  };
}

/** body-parser's JSON failure, raw or as Nest wraps it into a BadRequestException. */
function isJsonParseError(e: unknown): boolean {
  const any = e as { type?: string; cause?: { type?: string }; message?: string; getStatus?: () => number };
  if (any?.type === 'entity.parse.failed' || any?.cause?.type === 'entity.parse.failed') return true;
  return e instanceof HttpException && e.getStatus() === 400 && e.cause instanceof SyntaxError;
}

/** body-parser's errors (http-errors with a `type`), raw or wrapped by Nest: status and stable code. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.too.large': [413, 'payload_too_large', 'request body larger than the limit'],
  'parameters.too.many': [413, 'payload_too_large', 'too many parameters'],
  'charset.unsupported': [415, 'unsupported_media_type', 'unsupported charset of the request body'],
  'encoding.unsupported': [415, 'unsupported_media_type', 'unsupported content encoding of the request body'],
  'request.aborted': [400, 'bad_request', 'request aborted'],
  'request.size.invalid': [400, 'bad_request', 'request body size did not match Content-Length'],
};

function bodyError(e: unknown): [number, string, string] | undefined {
  const any = e as { type?: string; cause?: { type?: string } };
  const type = any?.type ?? any?.cause?.type;
  return type ? BODY_ERRORS[type] : undefined;
}

/** Every error leaves the API as application/problem+json with a stable `code`. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly log: Logger) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    let problem: Problem;
    if (exception instanceof DomainError) {
      problem = problemOf(exception.code, exception.status, exception.message, exception.extra, req.originalUrl);
    } else if (isJsonParseError(exception)) {
      problem = problemOf('malformed_json', 400, 'request body is not valid JSON', {}, req.originalUrl);
    } else if (bodyError(exception)) {
      const [status, code, detail] = bodyError(exception)!;
      problem = problemOf(code, status, detail, {}, req.originalUrl);
    } else if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const detail = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? exception.message);
      const code = status === 404 ? 'route_not_found' : status === 400 ? 'bad_request' : status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : `http_${status}`;
      problem = problemOf(code, status, Array.isArray(detail) ? detail.join('; ') : String(detail), {}, req.originalUrl);
    } else if (isUnstorableText(exception)) {
      problem = problemOf('unsupported_text', 422, 'text holds a character the database cannot store (NUL, or an unpaired UTF-16 surrogate)', {}, req.originalUrl);
    } else {
      this.log.error({ err: exception, url: req.originalUrl }, 'unhandled error');
      problem = problemOf('internal_error', 500, 'internal error', {}, req.originalUrl);
    }
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}

/**
 * PostgreSQL (and PGlite) refuse text and jsonb holding NUL (\u0000) or unpaired surrogates, which
 * JSON and JSON Schema allow: SQLSTATE 22P05 untranslatable_character, 22021
 * character_not_in_repertoire, 22P02 on jsonb (an escaped lone surrogate JSON.stringify writes). A request's text, not a server
 * fault: 422 unsupported_text (declared by the platform on every route that takes input).
 */
function isUnstorableText(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (code === '22P05' || code === '22021') return true;
  return code === '22P02' && /unicode|\\u0000|escape sequence|type json/i.test(String((e as Error).message));
}
