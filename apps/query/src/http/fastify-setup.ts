import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EXCEPTION_BODIES, PrefectHttpError } from './prefect-errors';
import { sendPrefectError } from './prefect-exception.filter';
import { decodeBody } from './request-body';
import { beyondMount, lenientDecode, undecodablePathError, unroutedError } from './routes';

export const BODY_LIMIT = 1024 * 1024;
const COMPRESS_FROM = 500;
const gzipAsync = promisify(gzip);
const ORIGINAL_CONTENT_TYPE = Symbol('originalContentType');

type Tagged = FastifyRequest & { [ORIGINAL_CONTENT_TYPE]?: string };

/**
 * The Fastify-level behaviour Prefect's middleware and body decoding give:
 * bearer auth in front of everything under /api but /api/health (and under
 * /ui-api, the web page's reads), our own body
 * decoding (§3.2) instead of Fastify's parsers, gzip for answers of 500 bytes
 * or more.
 */
export function configureFastify(fastify: FastifyInstance, options: { authToken?: string }): void {
  const checkAuth = options.authToken === undefined ? undefined : bearerCheck(options.authToken);

  fastify.addHook('onRequest', async (request: Tagged, reply: FastifyReply) => {
    // Keep the client's Content-Type for decodeBody and give Fastify one it
    // always accepts: FastAPI ignores unknown or malformed types, Fastify would 415.
    request[ORIGINAL_CONTENT_TYPE] = request.headers['content-type'];
    request.headers['content-type'] = 'application/octet-stream';
    if (checkAuth && isProtected(request.url) && !checkAuth(request.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer');
      sendPrefectError(reply, new PrefectHttpError(401, EXCEPTION_BODIES.unauthorized));
      return reply;
    }
    if (request.url.includes('%0') && beyondMount(lenientDecode(request.url.split('?', 1)[0] as string))) {
      sendPrefectError(reply, unroutedError(request.method, request.url, request.headers.host));
      return reply;
    }
  });

  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (request, raw, done) => {
    done(null, decodeBody((request as Tagged)[ORIGINAL_CONTENT_TYPE], raw as Buffer));
  });

  fastify.addHook('onSend', async (request, reply, payload) => {
    // Fastify appends "; charset=utf-8" to JSON types; Prefect (Starlette) sends plain application/json.
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.header('content-type', 'application/json');
    if (!String(request.headers['accept-encoding'] ?? '').includes('gzip') || reply.hasHeader('content-encoding')) return payload;
    if ((typeof payload !== 'string' && !Buffer.isBuffer(payload)) || Buffer.byteLength(payload) < COMPRESS_FROM) return payload;
    reply.header('content-encoding', 'gzip').header('vary', 'Accept-Encoding');
    return gzipAsync(payload);
  });
}

/**
 * Fastify's `frameworkErrors` handler: a path it cannot decode (`%`, `%E9`) is
 * routed as Starlette routes it (routes.ts). No hook runs for such a request,
 * so the bearer check is made here too.
 */
export function undecodablePathHandler(options: { authToken?: string }) {
  const checkAuth = options.authToken === undefined ? undefined : bearerCheck(options.authToken);
  return (_error: Error, request: FastifyRequest, reply: FastifyReply): void => {
    if (checkAuth && isProtected(request.url) && !checkAuth(request.headers.authorization)) {
      reply.header('www-authenticate', 'Bearer');
      sendPrefectError(reply, new PrefectHttpError(401, EXCEPTION_BODIES.unauthorized));
      return;
    }
    sendPrefectError(reply, undecodablePathError(request.method, request.url, request.headers.host));
  };
}

const UVICORN_INVALID_REQUEST =
  'HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nInvalid HTTP request received.';

/** Fastify's own answers kept for these two (what its default handler writes). */
const KEPT_CLIENT_ERRORS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '{"error":"Request Timeout","message":"Client Timeout","statusCode":408}',
  HPE_HEADER_OVERFLOW: '{"error":"Request Header Fields Too Large","message":"Exceeded maximum allowed HTTP header size","statusCode":431}',
};

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refuses (e.g. a
 * raw non-ASCII byte in the request line) gets uvicorn's answer, byte for byte
 * as probed on Prefect 3.6.24. Timeouts and oversized headers keep Fastify's
 * 408 and 431, plus "Connection: close" (Fastify leaves it out, so a keep-alive
 * client reuses the socket being destroyed and its next request fails).
 */
export function invalidHttpRequestHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const kept = KEPT_CLIENT_ERRORS[err.code ?? ''];
  if (socket.writable) {
    if (kept === undefined) socket.write(UVICORN_INVALID_REQUEST);
    else {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '408 Request Timeout';
      socket.write(`HTTP/1.1 ${status}\r\nContent-Length: ${kept.length}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${kept}`);
    }
  }
  socket.destroy(err);
}

function isProtected(url: string): boolean {
  const path = url.split('?', 1)[0] as string;
  if (path === '/ui-api' || path.startsWith('/ui-api/')) return true; // the web page's reads: the same data
  return (path === '/api' || path.startsWith('/api/')) && path !== '/api/health';
}

/** Compares SHA-256 digests in constant time, so neither the token nor its length leaks through timing. */
export function bearerCheck(token: string): (header: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (header) => {
    const match = /^Bearer[ \t]+(.+)$/i.exec(header ?? '');
    if (!match) return false;
    const given = createHash('sha256')
      .update((match[1] as string).trim())
      .digest();
    return timingSafeEqual(given, expected);
  };
}
