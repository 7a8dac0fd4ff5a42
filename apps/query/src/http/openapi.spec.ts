import { decodeConsistencyToken } from '@app/contracts';
import { parseCountRequest, parseListRequest } from '../artifacts/artifact-requests';
import { openApiDocument, REQUEST_EXAMPLES } from './openapi';
import { readOnlyDetail } from './read-only';
import { decodeBody } from './request-body';
import { parseUiListRequest } from '../ui-api/ui-requests';

// Schemathesis (test/reliability/http-fuzz) found every 422 in breach of the
// document: its two shapes were a oneOf of objects with no required member, so
// any object matched both and oneOf failed. Each shape now requires its members.
type Schema = { oneOf?: Schema[]; required?: string[]; properties?: Record<string, unknown> };
type Operation = { responses: Record<string, { content: { 'application/json': { schema: Schema } } }> };

const document = openApiDocument({ defaultLimit: 200, auth: false }) as { paths: Record<string, { post?: Operation }> };
// The read routes; POST /api/artifacts/ (a write) only answers 405.
const posts = Object.entries(document.paths).filter(([, item]) => item.post !== undefined && item.post.responses[200] !== undefined);
const schemaOf = (operation: Operation, status: number) => operation.responses[status]!.content['application/json'].schema;
// What matching an object-only schema without `type` checks on these answers comes down to: its required members are there.
const matches = (schema: Schema, body: object) => (schema.required ?? []).every((member) => member in body);

describe('OpenAPI document', () => {
  it("has Prefect's four POST routes, the subscription and the web page's one, under /ui-api", () => {
    expect(posts.map(([path]) => path).sort()).toEqual([
      '/api/artifacts/count',
      '/api/artifacts/filter',
      '/api/artifacts/latest/count',
      '/api/artifacts/latest/filter',
      '/api/artifacts/latest/subscribe',
      '/ui-api/artifacts/latest',
    ]);
  });

  it("documents the web page's GET routes outside Prefect's /api", () => {
    const gets = Object.entries(document.paths as Record<string, { get?: unknown }>).filter(([, item]) => item.get !== undefined).map(([path]) => path);
    expect(gets.filter((path) => !path.startsWith('/api/')).sort()).toEqual(['/ui-api/artifacts/{id}', '/ui-api/runs/{id}', '/ui/pipeline-status', '/ui/pipeline-status/subscribe']);
  });

  it.each(posts)('%s: each 422 answer matches exactly one of the two shapes', (_path, item) => {
    const shapes = schemaOf(item.post!, 422).oneOf!;
    const envelope = { exception_message: 'Invalid request received.', exception_detail: [], request_body: null };
    const limit = { detail: 'Invalid limit: must be less than or equal to 200.' };
    expect(shapes.map((s) => matches(s, envelope))).toEqual([true, false]);
    expect(shapes.map((s) => matches(s, limit))).toEqual([false, true]);
  });

  it.each(posts)('%s: documents the refusals before validation (400 undecodable, 413 too large)', (_path, item) => {
    for (const status of [400, 413]) expect(schemaOf(item.post!, status).required).toEqual(['detail']);
  });
});

describe('limit', () => {
  it.each([200, 7])('is documented as 0 to the configured limit (%d)', (defaultLimit) => {
    const schemas = (openApiDocument({ defaultLimit, auth: false }) as { components: { schemas: Record<string, { properties: Record<string, { anyOf: object[] }> }> } })
      .components.schemas;
    for (const body of ['ReadLatestArtifactsBody', 'ReadArtifactsBody', 'UiLatestArtifactsBody']) {
      expect(schemas[body]!.properties.limit!.anyOf).toEqual([expect.objectContaining({ type: 'integer', minimum: 0, maximum: defaultLimit }), { type: 'null' }]);
    }
  });
});

type AnyOperation = {
  tags?: string[];
  security?: unknown[];
  parameters?: { example?: unknown }[];
  requestBody?: { content: { 'application/json': { examples?: Record<string, { value: unknown }> } } };
  responses: Record<string, { content?: { 'application/json': { schema: { example?: unknown } } } }>;
};
const operations = (doc: object) =>
  Object.entries((doc as { paths: Record<string, Record<string, AnyOperation>> }).paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

describe('Swagger conventions', () => {
  it('gives every read route a curated example that the route itself accepts', () => {
    const examples = posts.flatMap(([path, item]) => Object.values((item.post as unknown as AnyOperation).requestBody!.content['application/json'].examples ?? {}).map((e) => [path, e.value] as const));
    expect(new Set(examples.map(([path]) => path))).toEqual(new Set(posts.map(([path]) => path)));
    expect(Object.keys(REQUEST_EXAMPLES['/api/artifacts/latest/filter']!)).toContain('ui_list');
    for (const [path, value] of examples) {
      const table = path.includes('/latest/') ? 'artifact_collection' : 'artifact';
      const body = decodeBody('application/json', Buffer.from(JSON.stringify(value)));
      expect(body.kind).toBe('json');
      // parse* throw Prefect's 422 on a body the route would refuse.
      if (path.startsWith('/ui-api/')) expect(() => parseUiListRequest(body as never, 200)).not.toThrow();
      else if (path.endsWith('/count')) expect(() => parseCountRequest(table, body as never)).not.toThrow();
      else expect(() => parseListRequest(table, body as never, 200)).not.toThrow();
    }
    const gets = operations(document).filter(({ method, path }) => method === 'get' && path.includes('{'));
    expect(gets.every(({ op }) => op.parameters?.every((p) => p.example !== undefined))).toBe(true);
  });

  it('groups every operation under a declared tag', () => {
    const declared = (document as unknown as { tags: { name: string }[] }).tags.map((t) => t.name);
    for (const { op } of operations(document)) expect(declared).toContain(op.tags?.[0]);
    expect(new Set(operations(document).map(({ op }) => op.tags?.[0]))).toEqual(new Set(declared));
  });

  it('declares the bearer scheme (Authorize), and with a token documents 401 on every /api route but /api/health', () => {
    const secured = openApiDocument({ defaultLimit: 200, auth: true }) as { security: unknown; components: { securitySchemes: unknown } };
    expect(secured.security).toEqual([{ bearer: [] }]);
    expect(secured.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) });
    expect((document as unknown as { components: { securitySchemes: unknown } }).components.securitySchemes).toEqual(secured.components.securitySchemes);
    for (const { path, op } of operations(secured)) {
      if (path === '/api/health') expect([op.security, op.responses[401]]).toEqual([[], undefined]);
      else expect(op.responses[401]).toBeDefined();
    }
    expect(operations(document).some(({ op }) => op.responses[401] !== undefined)).toBe(false);
  });

  it('documents X-Consistency-Token and its 504 on every /api/artifacts read route, with an example the codec accepts', () => {
    const reads = operations(document).filter(({ path, op }) => path.startsWith('/api/artifacts') && op.responses[200] !== undefined);
    expect(reads.map(({ method, path }) => `${method} ${path}`).sort()).toEqual(
      [
        'get /api/artifacts/{id}',
        'get /api/artifacts/{key}/latest',
        'post /api/artifacts/count',
        'post /api/artifacts/filter',
        'post /api/artifacts/latest/count',
        'post /api/artifacts/latest/filter',
        'get /api/artifacts/latest/subscribe',
        'post /api/artifacts/latest/subscribe',
      ].sort(),
    );
    for (const { op } of reads) {
      const header = (op.parameters as { name?: string; in?: string; example?: unknown }[]).find((p) => p.name === 'X-Consistency-Token');
      expect(header).toMatchObject({ in: 'header' });
      expect(decodeConsistencyToken(header!.example as string).size).toBe(1);
      expect(op.responses[504]).toBeDefined();
      expect(op.responses[422]).toBeDefined();
    }
  });

  it('documents the writes as 405, naming the event to publish', () => {
    const writes = operations(document).filter(({ op }) => op.responses[405] !== undefined);
    expect(writes.map(({ method, path }) => `${method.toUpperCase()} ${path}`).sort()).toEqual(['DELETE /api/artifacts/{id}', 'PATCH /api/artifacts/{id}', 'POST /api/artifacts/']);
    const example = writes.find(({ method }) => method === 'delete')!.op.responses[405]!.content!['application/json'].schema.example;
    expect(example).toEqual({ detail: readOnlyDetail('delete', 'prefect.artifact.deleted') });
    expect(readOnlyDetail('delete', 'prefect.artifact.deleted')).toMatch(/^This server is read-only: .* publish a prefect\.artifact\.deleted event to the artifacts topic/);
  });
});
