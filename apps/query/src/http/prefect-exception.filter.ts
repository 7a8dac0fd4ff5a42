import { ArgumentsHost, Catch, ExceptionFilter, HttpException, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { EXCEPTION_BODIES, PrefectHttpError } from './prefect-errors';
import { unroutedError } from './routes';

/**
 * The one place responses other than a route's result are written, in
 * Prefect's shapes: its envelopes as given, an unrouted request as 405/307/404,
 * Fastify's own 4xx (e.g. 413) as {detail}, a lost database as 503, anything
 * else as a logged 500.
 */
@Catch()
export class PrefectExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const error = this.toPrefect(exception, request);
    sendPrefectError(reply, error);
  }

  private toPrefect(exception: unknown, request: FastifyRequest): PrefectHttpError {
    if (exception instanceof PrefectHttpError) return exception;
    if (exception instanceof NotFoundException) return unroutedError(request.method, request.url, request.headers.host);
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      // Fastify's own refusals before any handler (body too large, bad Content-Length), as Nest hands them over.
      return new PrefectHttpError(exception.getStatus(), JSON.stringify({ detail: exception.message }));
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ err: exception }, 'database unavailable');
      return new PrefectHttpError(503, EXCEPTION_BODIES.unavailable);
    }
    this.logger.error({ err: exception, method: request.method, url: request.url }, 'unhandled error');
    return new PrefectHttpError(500, EXCEPTION_BODIES.internal);
  }
}

export function sendPrefectError(reply: FastifyReply, error: PrefectHttpError): void {
  reply.status(error.status).headers(error.headers);
  if (error.body === '') reply.send();
  // A Buffer keeps the content type as set (Fastify appends a charset to JSON strings; Starlette does not).
  else reply.header('content-type', 'application/json').send(Buffer.from(error.body));
}

// Connection-class SQLSTATEs, shutdowns and pool exhaustion: worth a retry, like Prefect's 503.
const RETRYABLE_SQLSTATE = /^(08|57P0[1-3]|53300)/;
const RETRYABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

function isDatabaseUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (RETRYABLE_SQLSTATE.test(code) || RETRYABLE_NODE.has(code))) return true;
  return /Connection terminated|timeout exceeded when trying to connect/i.test(e.message);
}
