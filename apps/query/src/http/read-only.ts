import type { FastifyInstance, FastifyReply } from 'fastify';
import { detailError } from './prefect-errors';
import { sendPrefectError } from './prefect-exception.filter';
import { UUID_SEGMENT } from './routes';

// Prefect's artifact writes. This server is a read model kept up to date by Kafka
// events, so each answers 405 in Prefect's {detail} shape, naming the event that
// makes the change instead (a generic "Method Not Allowed" left callers guessing).

export const READ_ONLY_WRITES = [
  { method: 'POST', path: '/api/artifacts/', verb: 'create', event: 'prefect.artifact.created' },
  { method: 'PATCH', path: '/api/artifacts/{id}', verb: 'update', event: 'prefect.artifact.updated' },
  { method: 'DELETE', path: '/api/artifacts/{id}', verb: 'delete', event: 'prefect.artifact.deleted' },
] as const;

export function readOnlyDetail(verb: string, event: string): string {
  return `This server is read-only: artifacts reach it as events on Kafka. To ${verb} an artifact, publish a ${event} event to the artifacts topic (docs/events.md; npm run events -- publish).`;
}

export function registerReadOnlyWrites(fastify: FastifyInstance): void {
  for (const write of READ_ONLY_WRITES) {
    const handler = async (_request: unknown, reply: FastifyReply) => sendPrefectError(reply, detailError(405, readOnlyDetail(write.verb, write.event)));
    // {id} only matches UUID-looking segments, as on the GET route (Starlette's uuid convertor): anything else stays 404.
    const url = write.path.replace('{id}', `:id(^${UUID_SEGMENT}$)`);
    fastify.route({ method: write.method, url, handler });
  }
}
