import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { parseListRequest } from '../artifacts/artifact-requests';
import { checkApiVersion } from '../http/api-preconditions.guard';
import { detailError, PrefectHttpError } from '../http/prefect-errors';
import { sendPrefectError } from '../http/prefect-exception.filter';
import { ReadAfter } from '../http/read-after';
import { decodeBody, DecodedBody } from '../http/request-body';
import { ChangeFeed, LiveFilter } from './change-feed';
import { parsePosition, sseFrame, sseHeaders } from './live-view';

// POST /api/artifacts/latest/subscribe (the latest/filter body) and
// GET /api/artifacts/latest/subscribe?filter=<that body, URL-encoded> for EventSource:
// our extension of Prefect's API, answered as Server-Sent Events (docs/api.md,
// "Subscriptions"). Registered on Fastify directly: the answer is a stream written
// to the socket, not a value Nest can send.

export const SUBSCRIBE_PATH = '/api/artifacts/latest/subscribe';
// A client this far behind (bytes queued on its socket) is cut off; it reconnects with Last-Event-ID.
const MAX_BUFFERED = 8 * 1024 * 1024;

export interface SubscribeOptions {
  feed: ChangeFeed;
  readAfter: ReadAfter;
  defaultLimit: number;
  heartbeatMs: number;
  retentionSeconds: number;
  logger: Logger;
}

export function registerSubscriptions(fastify: FastifyInstance, options: SubscribeOptions): void {
  const handler = (bodyOf: (request: FastifyRequest) => DecodedBody) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const decoded = bodyOf(request);
      if (decoded.kind === 'failed') throw decoded.error;
      checkApiVersion(request.headers['x-prefect-api-version']);
      const parsed = parseListRequest('artifact_collection', decoded, options.defaultLimit);
      const resumeAfter = lastEventId(request.headers['last-event-id']);
      await options.readAfter.wait(request.headers);
      await stream(request, reply, { filters: parsed.filters, sort: parsed.sort }, resumeAfter, options);
    } catch (error) {
      if (reply.raw.headersSent) {
        options.logger.warn({ err: error }, 'subscription ended by an error');
        reply.raw.end();
      } else if (error instanceof PrefectHttpError) sendPrefectError(reply, error);
      else {
        options.logger.error({ err: error }, 'cannot start a subscription');
        sendPrefectError(reply, detailError(503, 'Service Unavailable'));
      }
    }
  };
  fastify.route({ method: 'POST', url: SUBSCRIBE_PATH, handler: handler((request) => (request.body as DecodedBody | undefined) ?? { kind: 'absent' }) });
  fastify.route({ method: 'GET', url: SUBSCRIBE_PATH, handler: handler(filterParameter) });
}

/** GET's `filter` query parameter, decoded as a JSON body would be. */
function filterParameter(request: FastifyRequest): DecodedBody {
  const filter = (request.query as Record<string, string | string[] | undefined>).filter;
  if (Array.isArray(filter)) return { kind: 'failed', error: detailError(422, 'Give the filter query parameter once.') };
  return decodeBody('application/json', Buffer.from(filter ?? ''));
}

function lastEventId(header: string | string[] | undefined) {
  if (header === undefined || header === '') return undefined;
  const position = Array.isArray(header) ? undefined : parsePosition(header);
  if (position === undefined) throw detailError(422, 'Invalid Last-Event-ID header: give back the id of an event this server sent.');
  return position;
}

async function stream(request: FastifyRequest, reply: FastifyReply, filter: LiveFilter, resumeAfter: ReturnType<typeof lastEventId>, options: SubscribeOptions) {
  const raw = reply.raw;
  let gone = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let entry: Awaited<ReturnType<ChangeFeed['subscribe']>>;
  const end = () => {
    if (gone) return;
    gone = true;
    clearInterval(heartbeat);
    if (entry) options.feed.unsubscribe(entry);
    raw.end();
  };
  const write = (text: string): boolean => {
    if (gone) return false;
    if (!raw.headersSent) {
      reply.hijack();
      raw.writeHead(200, sseHeaders(String(request.id)));
      raw.write(sseFrame({ comment: `changes are kept for resuming for ${options.retentionSeconds} s` }));
    }
    if (text !== '') raw.write(text);
    if (raw.writableLength > MAX_BUFFERED) end();
    return !gone;
  };
  raw.on('close', end);
  entry = await options.feed.subscribe({ filter, write, end }, resumeAfter);
  if (entry === undefined) throw detailError(503, 'Service Unavailable');
  if (gone) {
    options.feed.unsubscribe(entry);
    return;
  }
  // A resume with nothing to catch up on has written nothing yet: answer now, not at the first heartbeat.
  write('');
  const open = entry;
  heartbeat = setInterval(() => write(sseFrame({ comment: 'heartbeat', id: options.feed.positionOf(open) })), options.heartbeatMs);
}
