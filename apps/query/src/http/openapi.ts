import { encodeConsistencyToken, MAX_CONSISTENCY_TOKEN_CHARS } from '@app/contracts';
import { CountArtifactsBody, CountLatestArtifactsBody, ReadArtifactsBody, ReadLatestArtifactsBody } from '@app/filters';
import { z } from 'zod';
import { ArtifactCollectionResponse, ArtifactResponse } from '../artifacts/artifact-responses';
import { UiLatestArtifactsBody } from '../ui-api/ui-requests';
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
      { type: 'object', description: 'limit out of range, or a refused X-Consistency-Token.', required: ['detail'], properties: { detail: { type: 'string' } } },
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

// Read your writes (docs/api.md, "Consistency tokens"): our extension, on every read route of /api/artifacts.
const CONSISTENCY_TOKEN = {
  name: 'X-Consistency-Token',
  in: 'header',
  required: false,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: MAX_CONSISTENCY_TOKEN_CHARS },
  example: encodeConsistencyToken(new Map([['prefect.artifacts', new Map([[0, 41n]])]])),
  description:
    'Not Prefect\'s: the consistency token a producer got when publishing (`npm run events -- publish` prints it; `EventPublisher.send` returns it). ' +
    'The answer waits until the read model has applied every event the token covers, at most QUERY_READ_AFTER_TIMEOUT_MS (default 5000), then 504. ' +
    'A malformed token, or one naming a topic this read model does not consume, is 422 {"detail": "Invalid X-Consistency-Token header: ..."}. Without it nothing changes.',
};
const READ_AFTER_TIMEOUT = {
  504: json(
    { type: 'object', required: ['detail'], properties: { detail: { type: 'string' } } , example: { detail: 'The read model has not applied the consistency token within 5000 ms: prefect.artifacts/0: 3 behind (applied up to offset 38, token needs 41).' } },
    'Only with X-Consistency-Token: the read model had not applied it in time; the detail gives the lag per partition.',
  ),
};
const TOKEN_REFUSED = DETAIL('Only with X-Consistency-Token: the token is malformed or names a topic this read model does not consume.');

type Examples = Record<string, { summary: string; value: unknown }>;

const ARTIFACTS = 'Artifacts';
const WRITES = 'Writes (through Kafka)';
const SERVER = 'Server';
const WEB = 'Web page';

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
  '/ui-api/artifacts/latest': {
    list: { summary: 'The list view: keys containing "report" updated since a day, 25 a page, with names', value: { sort: 'UPDATED_DESC', limit: 25, offset: 0, ...UI_FILTER, updated_after: '2026-12-01T00:00:00Z' } },
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
      parameters: [CONSISTENCY_TOKEN],
      requestBody: { required: false, content: { 'application/json': { schema: ref(body), examples: REQUEST_EXAMPLES[path] } } },
      // A refused token answers 422 {detail}: the second shape of VALIDATION_ERROR.
      responses: { 200: ok, ...BODY_REFUSALS, ...auth, 422: VALIDATION_ERROR, ...READ_AFTER_TIMEOUT },
    },
  };
}

/** Our extension (docs/api.md, "Subscriptions"): latest/filter's body, answered as Server-Sent Events. */
function subscribeRoutes(auth: Json): Json {
  const description =
    'Our extension, not Prefect\'s: the rows latest/filter would answer (all of them: limit and offset are validated, not applied), then their changes, as Server-Sent Events. ' +
    'Events: `snapshot` `{"reason": "new"|"expired"|"reset", "artifacts": [ArtifactCollection...]}` first, then `upsert` (an ArtifactCollection now matching) and `remove` (`{"key": ...}`) in commit order. ' +
    'Each `id:` is a resume position: reconnect with Last-Event-ID to get what changed since (within SUBSCRIBE_RETENTION_SECONDS; older gives a snapshot with reason "expired"). Heartbeat comments keep idle streams open.';
  const stream = { description: 'The event stream; it stays open.', content: { 'text/event-stream': { schema: { type: 'string' } } } };
  const lastEventId = { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string', pattern: '^\\d+-\\d+$' }, description: 'Resume after this event id.' };
  const { post: operation } = post('/api/artifacts/latest/filter', 'Subscribe to the latest artifact of each key', description, 'ReadLatestArtifactsBody', stream, auth) as { post: Json };
  const postOperation: Json = { ...operation, parameters: [...(operation.parameters as Json[]), lastEventId] };
  const filter = { name: 'filter', in: 'query', required: false, schema: { type: 'string' }, example: '{"artifacts":{"type":{"any_":["markdown"]}}}', description: 'The latest/filter body as URL-encoded JSON (for EventSource, which sends no body).' };
  const { requestBody: _body, ...withoutBody } = postOperation;
  return { post: postOperation, get: { ...withoutBody, summary: 'Subscribe (for EventSource)', parameters: [filter, ...(postOperation.parameters as Json[])] } };
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
  for (const name of ['ReadLatestArtifactsBody', 'ReadArtifactsBody', 'UiLatestArtifactsBody']) {
    const limit = (schemas[name] as { properties: { limit: { anyOf: Json[] } } }).properties.limit;
    limit.anyOf = limit.anyOf.map((s) => (s.type === 'integer' ? { ...s, minimum: 0, maximum: maxLimit } : s));
  }
  return schemas;
}

// The web page's routes (/ui-api, /ui/pipeline-status): not Prefect's, documented so clients and the fuzz know them.
const nullable = (schema: Json, description: string) => ({ anyOf: [schema, { type: 'null' }], description });
const NAMED = {
  type: 'object',
  required: ['id', 'name'],
  properties: { id: { type: 'string', format: 'uuid', description: 'Its id.' }, name: { type: 'string', description: 'Its name.' } },
};
const RUN_MEMBERS = {
  id: { type: 'string', format: 'uuid', description: 'The run id.' },
  name: { type: 'string', description: 'The run name.' },
  state_type: nullable({ type: 'string' }, 'The state type, e.g. COMPLETED; null before the first state.'),
  state_name: nullable({ type: 'string' }, 'The state name, e.g. Completed.'),
  tags: { type: 'array', items: { type: 'string' }, description: 'The run tags.' },
  start_time: nullable({ type: 'string', format: 'date-time' }, 'When the run started.'),
  end_time: nullable({ type: 'string', format: 'date-time' }, 'When the run ended.'),
};
const UI_SCHEMAS: Json = {
  UiFlowRun: {
    type: 'object',
    description: 'A flow run with the names of its flow and deployment.',
    required: [...Object.keys(RUN_MEMBERS), 'flow', 'deployment'],
    properties: {
      ...RUN_MEMBERS,
      flow: nullable(NAMED, 'The flow (null when the read model has no row for it).'),
      deployment: nullable(NAMED, 'The deployment (null when the run has none, or the read model has no row for it).'),
    },
  },
  UiTaskRun: {
    type: 'object',
    description: 'A task run; in a run view also its flow run (`flow_run`).',
    required: Object.keys(RUN_MEMBERS),
    properties: { ...RUN_MEMBERS, flow_run: nullable(ref('UiFlowRun'), 'In a run view: the flow run of this task run.') },
  },
  UiLatestRow: {
    type: 'object',
    description: 'One row of the list view.',
    required: ['artifact', 'flow_run', 'task_run', 'is_latest'],
    properties: {
      artifact: { ...ref('ArtifactCollection'), description: 'The latest artifact of the key, as POST /api/artifacts/latest/filter gives it.' },
      flow_run: nullable(ref('UiFlowRun'), 'Its flow run, when the read model has it.'),
      task_run: nullable(ref('UiTaskRun'), 'Its task run, when the read model has it.'),
      is_latest: { const: true, description: 'Always true here.' },
    },
  },
  UiVersionRow: {
    type: 'object',
    description: 'One artifact version with the names of its runs.',
    required: ['artifact', 'flow_run', 'task_run', 'is_latest'],
    properties: {
      artifact: { ...ref('Artifact'), description: 'The version, as GET /api/artifacts/{id} gives it.' },
      flow_run: nullable(ref('UiFlowRun'), 'Its flow run, when the read model has it.'),
      task_run: nullable(ref('UiTaskRun'), 'Its task run, when the read model has it.'),
      is_latest: { type: 'boolean', description: 'Whether this version is the latest of its key (false for a keyless artifact).' },
    },
  },
};
/** The web page's routes (not Prefect's): tagged, and behind the same bearer token as /api. */
function uiRoutes(auth: Json): Json {
  return Object.fromEntries(
    Object.entries(UI_ROUTES).map(([path, item]) => [
      path,
      Object.fromEntries(Object.entries(item).map(([verb, op]) => [verb, { tags: [WEB], ...op, responses: { ...(op.responses as Json), ...auth } }])),
    ]),
  );
}

const UI_ROUTES: Record<string, Record<string, Json>> = {
  '/ui-api/artifacts/latest': {
    post: {
      summary: 'Web page: a page of latest artifacts with names, and the count',
      description:
        "The list view in one request. The body is Prefect's ReadLatestArtifactsBody, validated the same way, plus `updated_after`; each row carries the ArtifactCollection and the names of its flow run, task run, flow and deployment.",
      requestBody: { required: false, content: { 'application/json': { schema: ref('UiLatestArtifactsBody'), examples: REQUEST_EXAMPLES['/ui-api/artifacts/latest'] } } },
      responses: {
        200: json(
          {
            type: 'object',
            required: ['count', 'offset', 'limit', 'rows'],
            properties: { count: { type: 'integer', minimum: 0 }, offset: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 0 }, rows: { type: 'array', items: ref('UiLatestRow') } },
          },
          'The page and the number of keys matching the filters.',
        ),
        ...BODY_REFUSALS,
        422: VALIDATION_ERROR,
      },
    },
  },
  '/ui-api/artifacts/{id}': {
    get: {
      summary: 'Web page: one artifact version with names, and its key\'s versions',
      description: 'The artifact view in one request: the version (as in GET /api/artifacts/{id}) with its run names, and up to 200 versions of its key, newest first.',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, example: '6f9619ff-8b86-4d01-b42d-00c04fc964ff', description: 'The version id.' }],
      responses: {
        200: json(
          {
            type: 'object',
            required: ['version', 'version_count', 'versions'],
            properties: {
              version: ref('UiVersionRow'),
              version_count: { type: 'integer', minimum: 0, description: 'Versions of the key (0 for a keyless artifact).' },
              versions: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'created', 'updated', 'type', 'description', 'flow_run_id', 'is_latest'],
                  properties: {
                    id: { type: 'string', format: 'uuid' },
                    created: { type: 'string', format: 'date-time' },
                    updated: { type: 'string', format: 'date-time' },
                    type: nullable({ type: 'string' }, 'The type.'),
                    description: nullable({ type: 'string' }, 'The description.'),
                    flow_run_id: nullable({ type: 'string', format: 'uuid' }, 'The flow run it was created in.'),
                    is_latest: { type: 'boolean' },
                  },
                },
              },
            },
          },
          'The version and its key\'s timeline.',
        ),
        404: DETAIL('No version has this id.'),
      },
    },
  },
  '/ui-api/runs/{id}': {
    get: {
      summary: 'Web page: a run and all its artifacts',
      description:
        'The run view in one request: the flow run (or, failing that, the task run) with this id, and up to 200 artifact versions created in it, keyed and keyless, newest first. An id no run row has but some artifact names answers with `kind` and `run` null.',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, example: '5f0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b', description: 'A flow run or task run id.' }],
      responses: {
        200: json(
          {
            type: 'object',
            required: ['kind', 'run', 'artifact_count', 'artifacts'],
            properties: {
              kind: { enum: ['flow_run', 'task_run', null] },
              run: { anyOf: [ref('UiFlowRun'), ref('UiTaskRun'), { type: 'null' }] },
              artifact_count: { type: 'integer', minimum: 0 },
              artifacts: { type: 'array', items: ref('UiVersionRow') },
            },
          },
          'The run and its artifacts.',
        ),
        404: DETAIL('Neither a run nor an artifact has this id.'),
      },
    },
  },
  '/ui/pipeline-status': {
    get: {
      summary: 'Web page: the ingest pipeline\'s status',
      description:
        "The ingest app's GET /status relayed (at most one read per second): applied and dead-lettered counts over the last 15 minutes kept by the ingest process itself, process and durable totals, lag and freshness per partition. 200 even when the ingest app cannot be reached (`reachable` false).",
      responses: {
        200: json(
          {
            type: 'object',
            required: ['ingest_url', 'reachable', 'ingest', 'read_at'],
            properties: { ingest_url: { type: 'string' }, reachable: { type: 'boolean' }, error: { type: 'string' }, ingest: nullable({ type: 'object' }, "The ingest app's GET /status answer."), read_at: { type: 'string', format: 'date-time' } },
          },
          'The status.',
        ),
      },
    },
  },
  '/ui/pipeline-status/subscribe': {
    get: {
      summary: "Web page: the ingest pipeline's status, pushed",
      description:
        'GET /ui/pipeline-status as Server-Sent Events, for the live pipeline panel: an `event: status` block (data: the same JSON) at once, then after each ingest commit ' +
        'the query app hears on its change feed (at most one a second) and every QUERY_SUBSCRIBE_HEARTBEAT_SECONDS. No resume positions: each event is the whole status.',
      responses: { 200: { description: 'The event stream; it stays open.', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
    },
  },
};

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
      { name: WEB, description: "The web page's own reads (not Prefect's routes): one request per view, behind the same token." },
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
      '/api/artifacts/latest/subscribe': subscribeRoutes(auth),
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
          parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' }, example: 'daily-report', description: 'The exact key.' }, CONSISTENCY_TOKEN],
          responses: { 200: json(ref('Artifact'), 'The latest artifact.'), ...auth, 404: DETAIL('No collection has this key.'), 422: TOKEN_REFUSED, ...READ_AFTER_TIMEOUT },
        },
      },
      '/api/artifacts/{id}': {
        get: {
          tags: [ARTIFACTS],
          summary: 'Read one artifact version',
          description: 'The path segment must look like a UUID (hyphens optional, any case); anything else is 404 Not Found.',
          parameters: [idParameter, CONSISTENCY_TOKEN],
          responses: { 200: json(ref('Artifact'), 'The version.'), ...auth, 404: DETAIL('No version has this id.'), 422: TOKEN_REFUSED, ...READ_AFTER_TIMEOUT },
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
      ...uiRoutes(auth),
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
      schemas: withLimitRange({ ...components([...bodies, UiLatestArtifactsBody, ArtifactResponse, ArtifactCollectionResponse]), ...UI_SCHEMAS }, options.defaultLimit),
      // Declared even without a token configured, so Swagger UI's Authorize is always there.
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The API_AUTH_TOKEN value.' } },
    },
  };
}
