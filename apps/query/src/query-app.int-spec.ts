import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Client } from 'pg';
import pino from 'pino';
import { createDatabase } from '../../../infra/local/postgres';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { ReadModelFixtures } from '../test/read-model-fixtures';
import { QueryConfig } from './query.config';
import { QueryDatabase, StartupError } from './query-database';
import { readOnlyDetail } from './http/read-only';
import { createQueryApp, startQueryApp } from './query.module';

// The HTTP behaviour around the routes (§3.1, §3.2, docs/operations.md): routing
// answers, body decoding, API-version header, compression, auth, probes,
// docs, and starting with a SELECT-only role.

let db: TestDatabase;
let app: NestFastifyApplication;
let base: string;
const silent = pino({ level: 'silent' });
const config = (overrides: Partial<QueryConfig> = {}): QueryConfig => ({
  databaseUrl: db.url,
  port: 0,
  defaultLimit: 200,
  logLevel: 'silent',
  ...overrides,
});

beforeAll(async () => {
  db = await createTestDatabase('query_app');
  ({ app, url: base } = await startQueryApp(config(), silent));
});

const role = `artifact_reader_${randomBytes(4).toString('hex')}`;

afterAll(async () => {
  await app?.close();
  await db?.drop();
  // The role's grants went with the databases; the role itself is cluster-wide.
  const server = new Client({ connectionString: process.env.DATABASE_URL });
  await server.connect();
  await server.query(`DROP ROLE IF EXISTS ${role}`);
  await server.end();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** Raw HTTP, so that headers (or their absence) are exactly what the test says. */
function send(method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer; url?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${options.url ?? base}${path}`, { method, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body, text: body.toString() });
      });
    });
    request.on('error', reject);
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('routing (§3.1)', () => {
  it('redirects trailing-slash mismatches with 307', async () => {
    const answer = await send('POST', '/api/artifacts/latest/filter/?x=1', { headers: { ...JSON_HEADERS, host: 'prefect.test:4200' }, body: '{}' });
    expect(answer.status).toBe(307);
    expect(answer.headers.location).toBe('http://prefect.test:4200/api/artifacts/latest/filter?x=1');
    expect(answer.text).toBe('');
  });

  it.each([
    ['GET', '/api/artifacts/latest/filter', 405, '{"detail":"Method Not Allowed"}'],
    ['PATCH', '/api/artifacts/6f9619ff-8b86-d011-b42d-00c04fc964ff', 405, JSON.stringify({ detail: readOnlyDetail('update', 'prefect.artifact.updated') })],
    ['DELETE', '/api/artifacts/6F9619FF8B86D011B42D00C04FC964FF', 405, JSON.stringify({ detail: readOnlyDetail('delete', 'prefect.artifact.deleted') })],
    ['POST', '/api/artifacts/', 405, JSON.stringify({ detail: readOnlyDetail('create', 'prefect.artifact.created') })],
    ['DELETE', '/api/artifacts/not-a-uuid', 404, '{"detail":"Not Found"}'],
    ['GET', '/api/artifacts/not-a-uuid', 404, '{"detail":"Not Found"}'],
    // Starlette routes the leniently decoded path: "%ZZ" is a key (never a stored one) as Prefect 3.6.24 answers.
    ['GET', '/api/artifacts/%ZZ/latest', 404, '{"detail":"Artifact not found."}'],
    ['GET', '/api/flows/filter', 404, '{"detail":"Not Found"}'],
  ])('%s %s answers %d', async (method, path, status, text) => {
    const answer = await send(method, path);
    expect({ status: answer.status, text: answer.text, type: answer.headers['content-type'] }).toEqual({ status, text, type: 'application/json' });
  });

  it('checks X-PREFECT-API-VERSION after JSON syntax and before validation', async () => {
    const bad = { ...JSON_HEADERS, 'x-prefect-api-version': '0.7.0' };
    expect((await send('POST', '/api/artifacts/count', { headers: bad, body: '{"limit": -1, "artifacts": 1}' })).text).toBe(
      '{"detail":"The request specified API version 0.7.0 but this server requires version 0.8.0 or higher."}',
    );
    expect((await send('POST', '/api/artifacts/count', { headers: bad, body: '{' })).status).toBe(422);
    expect((await send('GET', '/api/health', { headers: { 'x-prefect-api-version': '0.8.4' } })).text).toBe('true');
  });
});

describe('body decoding (§3.2)', () => {
  it('parses a body without Content-Type as JSON', async () => {
    const answer = await send('POST', '/api/artifacts/filter', { body: '{"offset": -1}' });
    expect(answer.status).toBe(422);
  });

  it('ignores bodies of other content types, even malformed or ones Fastify would refuse', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'nonsense', 'application/json/extra']) {
      expect((await send('POST', '/api/artifacts/count', { headers: { 'content-type': type }, body: '{oops' })).text).toBe('0');
    }
    expect((await send('POST', '/api/artifacts/count', { headers: { 'content-type': '' }, body: '{"artifacts": 1}' })).status).toBe(422);
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const answer = await send('POST', '/api/artifacts/count', { headers: JSON_HEADERS, body: `{"x":"${'a'.repeat(1024 * 1024)}"}` });
    expect({ status: answer.status, text: answer.text }).toEqual({ status: 413, text: '{"detail":"Request body is too large"}' });
  });

  it('answers 400 for nesting Python cannot decode, never 500', async () => {
    const deep = `{"bogus": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(await send('POST', '/api/artifacts/count', { headers: JSON_HEADERS, body: deep })).toMatchObject({
      status: 400,
      text: '{"detail":"There was an error parsing the body"}',
    });
    const echoed = `{"offset": -1, "bogus": ${'['.repeat(900)}${']'.repeat(900)}}`;
    expect((await send('POST', '/api/artifacts/filter', { headers: JSON_HEADERS, body: echoed })).status).toBe(422);
  });
});

describe('compression', () => {
  it('gzips answers of 500 bytes or more when asked', async () => {
    const rows = new ReadModelFixtures(db.dataSource);
    for (let i = 0; i < 3; i++) await rows.artifact({ created: `2024-01-01T00:00:0${i}Z`, key: `k${i}`, description: 'x'.repeat(200) });
    const plain = await send('POST', '/api/artifacts/filter', { headers: JSON_HEADERS, body: '{}' });
    const zipped = await send('POST', '/api/artifacts/filter', { headers: { ...JSON_HEADERS, 'accept-encoding': 'gzip, deflate' }, body: '{}' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toBe(plain.text);
    const small = await send('POST', '/api/artifacts/count', { headers: { 'accept-encoding': 'gzip' } });
    expect(small.headers['content-encoding']).toBeUndefined();
    await rows.clear();
  });
});

describe('probes', () => {
  it('health, ready and the Prefect version', async () => {
    expect((await send('GET', '/api/health')).text).toBe('true');
    expect(await send('GET', '/api/ready')).toMatchObject({ status: 200, text: '{"message":"OK"}' });
    const version = JSON.parse((await send('GET', '/api/admin/version')).text) as string;
    expect(version).toMatch(/^3\.\d+\.\d+$/);
    expect((await send('GET', '/metrics')).text).toContain('http_request_duration_seconds_bucket');
  });

  it('ready answers 503 when PostgreSQL does not', async () => {
    const other = await createQueryApp(config(), silent);
    await other.listen(0, '127.0.0.1');
    const url = await other.getUrl();
    await other.get(QueryDatabase).close();
    expect(await send('GET', '/api/ready', { url })).toMatchObject({ status: 503, text: '{"exception_message":"Service Unavailable"}' });
    await other.close();
  });
});

describe('prepared statements', () => {
  it('keeps a statement prepared on its connection unless it asks to be planned for each execution', async () => {
    const one = await QueryDatabase.open(db.url, 1);
    try {
      const kept = () => one.texts({ text: "SELECT coalesce(string_agg(statement, ' | ' ORDER BY statement), '') FROM pg_prepared_statements", values: [], prepare: false });
      expect(await one.texts({ text: 'SELECT $1::text', values: ['each time'], prepare: false })).toEqual(['each time']);
      expect(await kept()).toEqual(['']);
      expect(await one.texts({ text: 'SELECT $1::text', values: ['kept'] })).toEqual(['kept']);
      expect(await kept()).toEqual(['SELECT $1::text']);
    } finally {
      await one.close();
    }
  });
});

describe('parallel workers', () => {
  const setting = (app: Awaited<ReturnType<typeof createQueryApp>>) => app.get(QueryDatabase).texts({ text: 'SHOW max_parallel_workers_per_gather', values: [], prepare: false });

  it('runs its statements without PostgreSQL parallel workers unless QUERY_PARALLEL_WORKERS asks for some', async () => {
    for (const [parallelWorkers, expected] of [
      [undefined, '0'],
      [3, '3'],
    ] as const) {
      const other = await createQueryApp(config({ parallelWorkers }), silent);
      try {
        expect(await setting(other)).toEqual([expected]);
      } finally {
        await other.close();
      }
    }
  });
});

describe('docs', () => {
  it('serves the OpenAPI document and Swagger UI from local assets', async () => {
    type Schema = { description?: string; anyOf?: { description?: string }[]; properties?: Record<string, Schema> };
    const document = JSON.parse((await send('GET', '/docs-json')).text) as { paths: Record<string, unknown>; components: { schemas: Record<string, Schema> } };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/api/artifacts/latest/filter', '/api/artifacts/latest/count', '/api/artifacts/filter', '/api/artifacts/count', '/api/artifacts/{id}', '/api/artifacts/{key}/latest']),
    );
    const described = (schema: Schema) => typeof (schema.description ?? schema.anyOf?.find((s) => s.description)?.description) === 'string';
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      expect([name, described(schema)]).toEqual([name, true]);
      for (const [field, property] of Object.entries(schema.properties ?? {})) expect([name, field, described(property)]).toEqual([name, field, true]);
    }
    const page = await send('GET', '/docs');
    expect(page.text).toContain('/docs/static/swagger-ui-bundle.js');
    expect(page.text).not.toMatch(/https?:\/\//);
    expect((await send('GET', '/docs/static/swagger-ui-bundle.js')).status).toBe(200);
  });
});

describe('API_AUTH_TOKEN', () => {
  let secured: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    ({ app: secured, url } = await startQueryApp(config({ authToken: 's3cret-token' }), silent));
  });
  afterAll(() => secured.close());

  it('requires the bearer token on /api except /api/health', async () => {
    const unauthorized = { status: 401, text: '{"exception_message":"Unauthorized"}' };
    expect(await send('POST', '/api/artifacts/count', { url })).toMatchObject(unauthorized);
    expect(await send('POST', '/api/artifacts/count', { url, headers: { authorization: 'Bearer s3cret-tokeN' } })).toMatchObject(unauthorized);
    expect(await send('POST', '/api/artifacts/count', { url, headers: { authorization: 'Basic s3cret-token' } })).toMatchObject(unauthorized);
    expect(await send('GET', '/api/nowhere', { url })).toMatchObject(unauthorized);
    expect(await send('POST', '/api/artifacts/count', { url, headers: { authorization: 'Bearer s3cret-token' } })).toMatchObject({ status: 200, text: '0' });
    expect(await send('GET', '/api/health', { url })).toMatchObject({ status: 200, text: 'true' });
  });

  it('requires it on paths Fastify cannot decode too (no hook runs for those)', async () => {
    expect(await send('GET', '/api/artifacts/%E9/latest', { url })).toMatchObject({ status: 401, text: '{"exception_message":"Unauthorized"}' });
    const authorized = { url, headers: { authorization: 'Bearer s3cret-token' } };
    expect(await send('GET', '/api/artifacts/%E9/latest', authorized)).toMatchObject({ status: 404, text: '{"detail":"Artifact not found."}' });
  });
});

describe('a SELECT-only role', () => {
  const admin = () => new Client({ connectionString: db.url });

  function urlAs(database: string): string {
    const url = new URL(database);
    url.username = role;
    url.password = 'reader-pw';
    return url.toString();
  }

  it('serves an up-to-date database (the README role)', async () => {
    const client = admin();
    await client.connect();
    const database = new URL(db.url).pathname.slice(1);
    await client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'reader-pw'`);
    await client.query(`GRANT CONNECT ON DATABASE "${database}" TO ${role}`);
    await client.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    await client.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${role}`);
    await client.query(`INSERT INTO artifact (id, created, updated, key, src_partition, src_offset) VALUES (gen_random_uuid(), now(), now(), NULL, 0, 0)`);
    await client.end();

    const reader = await startQueryApp(config({ databaseUrl: urlAs(db.url) }), silent);
    try {
      expect(await send('POST', '/api/artifacts/count', { url: reader.url, headers: JSON_HEADERS, body: '{"artifacts": {"key": {"exists_": false}}}' })).toMatchObject({ status: 200, text: '1' });
      expect(await send('POST', '/api/artifacts/filter', { url: reader.url })).toMatchObject({ status: 200 });
      expect(await send('GET', '/api/ready', { url: reader.url })).toMatchObject({ status: 200 });
    } finally {
      await reader.app.close();
    }
    await db.dataSource.query('DELETE FROM artifact');
  });

  it('(by contrast, a superuser) migrates an empty database on start; it failed on a query naming the missing migration table', async () => {
    const empty = await createDatabase(db.url, `query_fresh_${randomBytes(4).toString('hex')}`);
    try {
      const fresh = await startQueryApp(config({ databaseUrl: empty.url }), silent);
      try {
        expect(await send('POST', '/api/artifacts/count', { url: fresh.url })).toMatchObject({ status: 200, text: '0' });
      } finally {
        await fresh.app.close();
      }
    } finally {
      await empty.drop();
    }
  });

  it('refuses to start on a database it would have to migrate, with one clear message', async () => {
    const name = `query_empty_${randomBytes(4).toString('hex')}`;
    const empty = await createDatabase(db.url, name);
    const client = admin();
    await client.connect();
    try {
      await client.query(`GRANT CONNECT ON DATABASE ${name} TO ${role}`);
      await expect(createQueryApp(config({ databaseUrl: urlAs(empty.url) }), silent)).rejects.toThrow(StartupError);
      await expect(createQueryApp(config({ databaseUrl: urlAs(empty.url) }), silent)).rejects.toThrow(/^cannot bring the schema up to date: /);
    } finally {
      await client.end();
      await empty.drop();
    }
  });
});

describe('main.ts', () => {
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/query/src/main.ts'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('exits non-zero with one line on a malformed variable or an unreachable PostgreSQL', () => {
    const malformed = run({ QUERY_PORT: 'eighty' });
    expect({ status: malformed.status, stderr: malformed.stderr }).toEqual({
      status: 1,
      stderr: 'query: QUERY_PORT must be an integer from 0 to 65535, got "eighty"\n',
    });
    const unreachable = run({ DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:1/artifacts', QUERY_PORT: '0' });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(/^query: PostgreSQL is unreachable at 127\.0\.0\.1:1\/artifacts: .+\n$/);
  }, 120_000);
});
