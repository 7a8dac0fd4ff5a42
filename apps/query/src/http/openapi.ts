import { CountArtifactsBody, CountLatestArtifactsBody, ReadArtifactsBody, ReadLatestArtifactsBody } from '@app/filters';
import { z } from 'zod';
import { ArtifactCollectionResponse, ArtifactResponse } from '../artifacts/artifact-responses';
import { PREFECT_SERVER_VERSION } from './health.controller';
import { READ_ONLY_WRITES, readOnlyDetail } from './read-only';

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

type Examples = Record<string, { summary: string; value: unknown }>;

const ARTIFACTS = 'Artifacts';
const WRITES = 'Writes (through Kafka)';
const SERVER = 'Server';

// Curated request bodies, valid against the schemas (openapi.spec.ts parses each one).
const FLOW_RUN_ID = '5f0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const DEPLOYMENT_ID = '9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e';
const UI_FILTER = { artifacts: { key: { like_: 'report' }, type: { any_: ['table'] } } };
export const REQUEST_EXAMPLES: Record<string, Examples> = {
  '/api/artifacts/latest/filter': {
    ui_list: { summary: "The web UI's list page: page 1 of keys containing \"report\" (paired with latest/count)", value: { sort: 'UPDATED_DESC', limit: 10, offset: 0, ...UI_FILTER } },
    deployment: { summary: "Latest artifacts of a deployment's flow runs", value: { deployments: { id: { any_: [DEPLOYMENT_ID] } }, sort: 'KEY_ASC' } },
  },
  '/api/artifacts/latest/count': {
    ui_count: { summary: "The web UI's total for the same filter (paired with latest/filter)", value: UI_FILTER },
  },
  '/api/artifacts/filter': {
    key: { summary: 'Every version of one key, newest first (the history page)', value: { artifacts: { key: { any_: ['daily-report'] } }, sort: 'CREATED_DESC' } },
    flow_run: { summary: 'The artifacts a flow run created', value: { flow_runs: { id: { any_: [FLOW_RUN_ID] } }, sort: 'CREATED_DESC', limit: 50 } },
  },
  '/api/artifacts/count': {
    deployment: { summary: "Versions created by a deployment's flow runs", value: { deployments: { id: { any_: [DEPLOYMENT_ID] } } } },
  },
};

function post(path: string, summary: string, description: string, body: string, ok: Json, auth: Json): Json {
  return {
    post: {
      tags: [ARTIFACTS],
      summary,
      description,
      requestBody: { required: false, content: { 'application/json': { schema: ref(body), examples: REQUEST_EXAMPLES[path] } } },
      responses: { 200: ok, ...BODY_REFUSALS, ...auth, 422: VALIDATION_ERROR },
    },
  };
}

function readOnly(verb: string, event: string, auth: Json, parameters?: Json[]): Json {
  const detail = readOnlyDetail(verb, event);
  return {
    tags: [WRITES],
    summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} an artifact: not here, publish ${event}`,
    description: `Prefect's route exists, but this server is a read model: it always answers 405. Publish a \`${event}\` event to the artifacts topic instead.`,
    ...(parameters ? { parameters } : {}),
    responses: {
      ...auth,
      ...(parameters ? { 404: DETAIL('The id does not look like a UUID: no such route.') } : {}),
      405: json({ type: 'object', required: ['detail'], properties: { detail: { type: 'string' } }, example: { detail } }, 'Read-only: the body names the event to publish.'),
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
  // With API_AUTH_TOKEN set, every /api route but /api/health wants the bearer token (answered before routing).
  const auth: Json = options.auth
    ? { 401: { ...json({ type: 'object', required: ['exception_message'], properties: { exception_message: { const: 'Unauthorized' } } }, 'No or a wrong bearer token.'), headers: { 'WWW-Authenticate': { schema: { const: 'Bearer' } } } } }
    : {};
  const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, example: '6f9619ff-8b86-4d01-b42d-00c04fc964ff', description: 'The version id.' };
  const [create, update, remove] = READ_ONLY_WRITES;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Artifacts read API (Prefect-compatible)',
      version: PREFECT_SERVER_VERSION,
      description:
        "Prefect 3's artifact read routes, answered from a read model that Kafka events keep up to date. Requests and answers " +
        `match a Prefect server byte for byte, quirks included. Pages hold at most ${options.defaultLimit} rows. ` +
        (options.auth ? 'Every /api route but /api/health needs the bearer token: use Authorize.' : 'No token is needed (API_AUTH_TOKEN is not set).'),
    },
    tags: [
      { name: ARTIFACTS, description: "Prefect's artifact reads: lists, counts and lookups." },
      { name: WRITES, description: 'Artifacts are written by publishing events to Kafka (docs/events.md); these routes answer 405 and name the event.' },
      { name: SERVER, description: 'Liveness, readiness and the Prefect version this server answers as.' },
    ],
    ...(options.auth ? { security: [{ bearer: [] }] } : {}),
    paths: {
      '/api/artifacts/latest/filter': post(
        '/api/artifacts/latest/filter',
        'List the latest artifact of each key',
        'One row per key, carrying its latest version. Filters on the row itself and on its flow run, task run, flow and deployment are ANDed; a related filter that is present, even empty, requires the related row to exist.',
        'ReadLatestArtifactsBody',
        json({ type: 'array', items: ref('ArtifactCollection') }, 'The page, in the requested order.'),
        auth,
      ),
      '/api/artifacts/latest/count': post('/api/artifacts/latest/count', 'Count keys', 'Counts the rows the same filters would list; sort, limit and offset are ignored.', 'CountLatestArtifactsBody', count, auth),
      '/api/artifacts/filter': post(
        '/api/artifacts/filter',
        'List artifact versions',
        "Every version, keyless ones included; related filters use each version's own run ids.",
        'ReadArtifactsBody',
        json({ type: 'array', items: ref('Artifact') }, 'The page, in the requested order.'),
        auth,
      ),
      '/api/artifacts/count': post('/api/artifacts/count', 'Count artifact versions', 'Counts the versions the same filters would list.', 'CountArtifactsBody', count, auth),
      '/api/artifacts/': { post: readOnly(create.verb, create.event, auth) },
      '/api/artifacts/{key}/latest': {
        get: {
          tags: [ARTIFACTS],
          summary: 'Read the latest artifact of a key',
          description: "The key's collection row in the Artifact shape: `id` is the collection's id and there is no latest_id. The key matches exactly.",
          parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' }, example: 'daily-report', description: 'The exact key.' }],
          responses: { 200: json(ref('Artifact'), 'The latest artifact.'), ...auth, 404: DETAIL('No collection has this key.') },
        },
      },
      '/api/artifacts/{id}': {
        get: {
          tags: [ARTIFACTS],
          summary: 'Read one artifact version',
          description: 'The path segment must look like a UUID (hyphens optional, any case); anything else is 404 Not Found.',
          parameters: [idParameter],
          responses: { 200: json(ref('Artifact'), 'The version.'), ...auth, 404: DETAIL('No version has this id.') },
        },
        patch: readOnly(update.verb, update.event, auth, [idParameter]),
        delete: readOnly(remove.verb, remove.event, auth, [idParameter]),
      },
      '/api/health': {
        get: { tags: [SERVER], summary: 'Liveness', description: 'true while the process runs; never needs a token.', security: [], responses: { 200: json({ const: true }, 'Up.') } },
      },
      '/api/ready': {
        get: {
          tags: [SERVER],
          summary: 'Readiness',
          description: '200 when PostgreSQL answers a query, else 503.',
          responses: { 200: json({ type: 'object' }, 'Ready.'), ...auth, 503: json({ type: 'object' }, 'PostgreSQL does not answer.') },
        },
      },
      '/api/admin/version': {
        get: {
          tags: [SERVER],
          summary: 'Server version',
          description: "The Prefect server version we answer as; Prefect's client checks the major version first.",
          responses: { 200: json({ type: 'string' }, 'A Prefect 3.x version.'), ...auth },
        },
      },
    },
    components: {
      schemas: withLimitRange(components([...bodies, ArtifactResponse, ArtifactCollectionResponse]), options.defaultLimit),
      // Declared even without a token configured, so Swagger UI's Authorize is always there.
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The API_AUTH_TOKEN value.' } },
    },
  };
}
