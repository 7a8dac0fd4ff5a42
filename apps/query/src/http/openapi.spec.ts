import { openApiDocument } from './openapi';

// Schemathesis (test/reliability/http-fuzz) found every 422 in breach of the
// document: its two shapes were a oneOf of objects with no required member, so
// any object matched both and oneOf failed. Each shape now requires its members.
type Schema = { oneOf?: Schema[]; required?: string[]; properties?: Record<string, unknown> };
type Operation = { responses: Record<string, { content: { 'application/json': { schema: Schema } } }> };

const document = openApiDocument({ defaultLimit: 200, auth: false }) as { paths: Record<string, { post?: Operation }> };
const posts = Object.entries(document.paths).filter(([, item]) => item.post !== undefined);
const schemaOf = (operation: Operation, status: number) => operation.responses[status]!.content['application/json'].schema;
// What matching an object-only schema without `type` checks on these answers comes down to: its required members are there.
const matches = (schema: Schema, body: object) => (schema.required ?? []).every((member) => member in body);

describe('OpenAPI document', () => {
  it("has Prefect's four POST routes and the web page's one, under /ui-api", () => {
    expect(posts.map(([path]) => path).sort()).toEqual(['/api/artifacts/count', '/api/artifacts/filter', '/api/artifacts/latest/count', '/api/artifacts/latest/filter', '/ui-api/artifacts/latest']);
  });

  it("documents the web page's GET routes outside Prefect's /api", () => {
    const gets = Object.entries(document.paths as Record<string, { get?: unknown }>).filter(([, item]) => item.get !== undefined).map(([path]) => path);
    expect(gets.filter((path) => !path.startsWith('/api/')).sort()).toEqual(['/ui-api/artifacts/{id}', '/ui-api/runs/{id}', '/ui/pipeline-status']);
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
