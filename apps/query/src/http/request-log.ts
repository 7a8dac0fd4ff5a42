import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { routePattern } from './metrics';

// Probes and scrapes are polled every few seconds: logged at debug, not info.
const QUIET = new Set(['/api/health', '/api/ready', '/metrics', '/ui/pipeline-status']);

/** One JSON line per request with its id (echoed as `x-request-id`); never headers or bodies, so no token leaks. */
export function registerRequestLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const line = {
      reqId: request.id,
      method: request.method,
      route: routePattern(request.routeOptions.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    const path = request.url.split('?')[0] ?? '';
    if (QUIET.has(path)) logger.debug(line, 'request');
    else logger.info(line, 'request');
  });
}
