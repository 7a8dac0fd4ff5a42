import { CountArtifactsBody, CountLatestArtifactsBody, ReadArtifactsBody, ReadLatestArtifactsBody } from '@app/filters';
import { z } from 'zod';
import { ArtifactCollectionResponse, ArtifactResponse } from '../artifacts/artifact-responses';
import { PREFECT_SERVER_VERSION } from './health.controller';

// The OpenAPI document served at /docs-json (and rendered at /docs), built from
// the same zod schemas that validate the request bodies.

type Json = Record<string, unknown>;

function components(schemas: z.ZodType[]): Json {
  const out: Json = {};
  for (const schema of schemas) {
    const generated = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as { $defs?: Json };
    Object.assign(out, generated.$defs);
  }
  return JSON.parse(JSON.stringify(out).replaceAll('"#/$defs/', '"#/components/schemas/')) as Json;
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: Json, description: string) => ({ description, content: { 'application/json': { schema } } });

const VALIDATION_ERROR = json(
  {
    oneOf: [
      {
        type: 'object',
        description: 'The body failed validation: Pydantic-style items {type, loc, msg, input, ctx?} and the body as received.',
        required: ['exception_message', 'exception_detail', 'request_body'],
        properties: {
          exception_message: { const: 'Invalid request received.' },
          exception_detail: { type: 'array', items: { type: 'object' } },
          request_body: {},
        },
      },
      { type: 'object', description: 'limit out of range.', required: ['detail'], properties: { detail: { type: 'string' } } },
    ],
  },
  'Validation error, in one of Prefect\'s two shapes.',
);
const DETAIL = (description: string) => json({ type: 'object', required: ['detail'], properties: { detail: { type: 'string' } } }, description);
// Refusals before validation, shared by the POST routes: a body that is not UTF-8 or that Python's decoder
// gives up on (nesting deeper than 1000, an integer of more than 4300 digits), and a body over 1 MiB.
const BODY_REFUSALS = {
  400: DETAIL('The body could not be decoded: not UTF-8, nested deeper than Python allows, or an integer too long.'),
  413: DETAIL('The body is larger than 1 MiB.'),
};

function post(summary: string, description: string, body: string, ok: Json): Json {
  return {
    post: {
      summary,
      description,
      requestBody: { required: false, content: { 'application/json': { schema: ref(body) } } },
      responses: { 200: ok, ...BODY_REFUSALS, 422: VALIDATION_ERROR },
    },
  };
}

/** The page size's range depends on the configuration, which the shared zod schemas do not know. */
function withLimitRange(schemas: Json, maxLimit: number): Json {
  for (const name of ['ReadLatestArtifactsBody', 'ReadArtifactsBody']) {
    const limit = (schemas[name] as { properties: { limit: { anyOf: Json[] } } }).properties.limit;
    limit.anyOf = limit.anyOf.map((s) => (s.type === 'integer' ? { ...s, minimum: 0, maximum: maxLimit } : s));
  }
  return schemas;
}

export function openApiDocument(options: { defaultLimit: number; auth: boolean }): Json {
  const bodies = [ReadLatestArtifactsBody, CountLatestArtifactsBody, ReadArtifactsBody, CountArtifactsBody];
  const count = json({ type: 'integer', minimum: 0 }, 'The number of matching rows, as a bare JSON integer.');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Artifacts read API (Prefect-compatible)',
      version: PREFECT_SERVER_VERSION,
      description:
        "Prefect 3's artifact read routes, answered from a read model that Kafka events keep up to date. Requests and answers " +
        `match a Prefect server byte for byte, quirks included. Pages hold at most ${options.defaultLimit} rows.`,
    },
    ...(options.auth ? { security: [{ bearer: [] }] } : {}),
    paths: {
      '/api/artifacts/latest/filter': post(
        'List the latest artifact of each key',
        'One row per key, carrying its latest version. Filters on the row itself and on its flow run, task run, flow and deployment are ANDed; a related filter that is present, even empty, requires the related row to exist.',
        'ReadLatestArtifactsBody',
        json({ type: 'array', items: ref('ArtifactCollection') }, 'The page, in the requested order.'),
      ),
      '/api/artifacts/latest/count': post('Count keys', 'Counts the rows the same filters would list; sort, limit and offset are ignored.', 'CountLatestArtifactsBody', count),
      '/api/artifacts/filter': post(
        'List artifact versions',
        'Every version, keyless ones included; related filters use each version\'s own run ids.',
        'ReadArtifactsBody',
        json({ type: 'array', items: ref('Artifact') }, 'The page, in the requested order.'),
      ),
      '/api/artifacts/count': post('Count artifact versions', 'Counts the versions the same filters would list.', 'CountArtifactsBody', count),
      '/api/artifacts/{key}/latest': {
        get: {
          summary: 'Read the latest artifact of a key',
          description: "The key's collection row in the Artifact shape: `id` is the collection's id and there is no latest_id. The key matches exactly.",
          parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' }, description: 'The exact key.' }],
          responses: { 200: json(ref('Artifact'), 'The latest artifact.'), 404: DETAIL('No collection has this key.') },
        },
      },
      '/api/artifacts/{id}': {
        get: {
          summary: 'Read one artifact version',
          description: 'The path segment must look like a UUID (hyphens optional, any case); anything else is 404 Not Found.',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, description: 'The version id.' }],
          responses: { 200: json(ref('Artifact'), 'The version.'), 404: DETAIL('No version has this id.') },
        },
      },
      '/api/health': { get: { summary: 'Liveness', description: 'true while the process runs; never needs a token.', responses: { 200: json({ const: true }, 'Up.') } } },
      '/api/ready': {
        get: {
          summary: 'Readiness',
          description: '200 when PostgreSQL answers a query, else 503.',
          responses: { 200: json({ type: 'object' }, 'Ready.'), 503: json({ type: 'object' }, 'PostgreSQL does not answer.') },
        },
      },
      '/api/admin/version': {
        get: {
          summary: 'Server version',
          description: "The Prefect server version we answer as; Prefect's client checks the major version first.",
          responses: { 200: json({ type: 'string' }, 'A Prefect 3.x version.') },
        },
      },
    },
    components: {
      schemas: withLimitRange(components([...bodies, ArtifactResponse, ArtifactCollectionResponse]), options.defaultLimit),
      ...(options.auth ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The API_AUTH_TOKEN value.' } } } : {}),
    },
  };
}
