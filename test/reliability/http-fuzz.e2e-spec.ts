import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { openDatabase } from '@app/persistence';
import { startPostgres, stopPostgres } from '../../infra/local';
import { ReadModelFixtures } from '../../apps/query/test/read-model-fixtures';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { sized } from './support/scale';
import { runSchemathesis, SchemathesisRun } from './support/schemathesis';

// Issue #6, hostile input over HTTP: hand-written nasty requests against every
// route of the query app, then Schemathesis generating requests from our
// OpenAPI document. Nothing may answer 5xx or leave a request unanswered, a
// body over 1 MiB is 413, and PostgreSQL, logging every statement of the query
// app's role, must see request values only as bind parameters.

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'reliability');
const REQUEST_TIMEOUT_MS = 60_000; // a request without an answer by then counts as a hang (not a speed check)
// Prefect's four, and the web page's list route (issue #16), which takes the same bodies plus `updated_after`.
const POST_ROUTES = ['/api/artifacts/filter', '/api/artifacts/latest/filter', '/api/artifacts/count', '/api/artifacts/latest/count', '/ui-api/artifacts/latest'];
const QUERY_ROLE = 'fuzz_query';
// Schemathesis examples per operation: FUZZ_MAX_EXAMPLES, else 50 in CI and 150 at full size (FAULT_SCALE=full).
const maxExamples = Number(process.env.FUZZ_MAX_EXAMPLES ?? sized({ ci: 50, full: 150 }));
const ONE_MIB = 1024 * 1024; // the query app's body limit (apps/query/src/http/fastify-setup.ts)

interface Answer {
  status: number;
  text: string;
}

describe('HTTP fuzz of the query app', () => {
  const sentinel = `fuzz_sentinel_${randomBytes(6).toString('hex')}`;
  /** Sentinel variants, one per place a request value can reach SQL; each must arrive as a parameter. */
  const marks = {
    keyAny: `${sentinel}_key_any`,
    keyLike: `${sentinel}_key_like`,
    runName: `${sentinel}_run_name`,
    flowName: `${sentinel}_flow_name`,
    deploymentName: `${sentinel}_deployment_name`,
    typeNotAny: `${sentinel}_type_not_any`,
    tag: `${sentinel}_tag`,
    stateName: `${sentinel}_state_name`,
    path: `${sentinel}_path`,
    sqlQuote: `'; drop table artifact; -- ${sentinel}_sql_quote`,
    sqlDollar: `$1 ${sentinel}_sql_dollar $$`,
    backslash: `\\x00 ${sentinel}_backslash \\`,
  };
  let dir: string;
  let pgDir: string;
  let logFile: string;
  let adminUrl: string;
  let app: AppProcess;
  const statuses: Record<string, number> = {};
  let handWritten = 0;
  let schemathesis: SchemathesisRun | undefined;

  async function admin<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async function send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
    const response = await fetch(app.url + path, { method, body, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    handWritten++;
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    return { status: response.status, text };
  }

  /**
   * A body over the limit, by node:http. The server answers 413 and closes the
   * connection (Fastify: the client may send more); a client still writing
   * then races the close (EPIPE, or a reset that drops the unread answer),
   * which says nothing about the server. So with a Content-Length only the
   * headers are sent and the answer awaited: the limit applies before any of
   * the body is read. Chunked, the body is written up to one byte past the
   * limit (the server then has read all there is) and the answer awaited.
   */
  function sendLarge(path: string, body: Buffer, contentType: string, chunked = false): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { 'content-type': contentType };
      if (!chunked) headers['content-length'] = body.length;
      const request = httpRequest(`${app.url}${path}`, { method: 'POST', headers, timeout: REQUEST_TIMEOUT_MS });
      let answered = false;
      request.on('response', (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          handWritten++;
          statuses[response.statusCode ?? 0] = (statuses[response.statusCode ?? 0] ?? 0) + 1;
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() });
          request.destroy();
        });
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      request.on('error', (error) => {
        if (!answered) reject(error);
      });
      request.flushHeaders();
      if (!chunked) return;
      const sent = body.subarray(0, ONE_MIB + 1);
      for (let i = 0; i < sent.length; i += 64 * 1024) request.write(sent.subarray(i, i + 64 * 1024));
      if (sent.length === body.length) request.end();
    });
  }

  /** Never 5xx, and every error in one of Prefect's shapes. */
  function expectSane(what: string, answer: Answer): void {
    expect([what, answer.status < 500]).toEqual([what, true]);
    if (answer.status < 400 || answer.status === 431) return; // 431: Node's own header limit, before any handler
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    if ('exception_message' in body) {
      expect([what, answer.status]).toEqual([what, 422]);
      expect(body.exception_message).toBe('Invalid request received.');
      expect(Object.keys(body)).toEqual(['exception_message', 'exception_detail', 'request_body']);
      const items = body.exception_detail as { type: unknown; loc: unknown[]; msg: unknown }[];
      expect(items.length).toBeGreaterThan(0);
      for (const item of items.slice(0, 50)) {
        expect(typeof item.type).toBe('string');
        expect(typeof item.msg).toBe('string');
        expect(item.loc[0]).toBe('body');
      }
    } else {
      expect([what, Object.keys(body), typeof body.detail]).toEqual([what, ['detail'], 'string']);
    }
  }

  async function post(route: string, body: string | Buffer, headers?: Record<string, string>): Promise<Answer> {
    const answer = await send('POST', route, body, headers);
    expectSane(`POST ${route} ${String(body).slice(0, 80)}`, answer);
    return answer;
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'http-fuzz-'));
    pgDir = join(dir, 'postgres');
    const postgres = await startPostgres({ dataDir: pgDir, persistent: false });
    logFile = postgres.logFile;
    adminUrl = postgres.databaseUrl;
    // The user on every log line, so the query role's statements can be told apart.
    await admin(`ALTER SYSTEM SET log_line_prefix = '%m [%p] user=%u '`);
    await admin('SELECT pg_reload_conf()');

    const dataSource = await openDatabase({ url: adminUrl, applicationName: 'http-fuzz-seed', poolSize: 2 });
    try {
      const fixtures = new ReadModelFixtures(dataSource);
      const flow = await fixtures.flow({ name: 'fuzz-flow' });
      const deployment = await fixtures.deployment({ flow_id: flow, name: 'fuzz-deployment', work_queue_name: 'default' });
      const run = await fixtures.flowRun({ flow_id: flow, deployment_id: deployment, name: 'fuzz-run', tags: ['a', 'b'], state_type: 'COMPLETED', state_name: 'Completed', start_time: '2024-01-01T00:00:00Z' });
      const task = await fixtures.taskRun({ flow_run_id: run, name: 'fuzz-task' });
      let minute = 0;
      const at = () => `2024-02-01T00:${String(minute++).padStart(2, '0')}:00Z`;
      // Keys for the like_ checks: wildcards and a backslash stored literally, and non-ASCII case.
      for (const key of ['abc-1', 'abc-1', 'abd-2', 'a_c-3', 'ABC-4', 'x%y-5', 'back\\slash-6', 'ünïcode-Ä-7']) {
        await fixtures.artifact({ created: at(), key, type: 'markdown', data: '"d"', flow_run_id: run, task_run_id: task });
      }
      await fixtures.artifact({ created: at(), key: null, type: 'result', data: '1' });
      // The read model here has applied everything (no ingest app writes it): a well-formed
      // X-Consistency-Token (the OpenAPI example is one) is answered at once. Its 504, the
      // designed answer while the ingest app lags, is tested in test/ops/read-your-writes.e2e-spec.ts.
      await dataSource.query(
        `INSERT INTO consumer_checkpoint (group_id, topic, partition, next_offset)
         SELECT 'artifact-read-model', topic, partition, 9223372036854775807
         FROM unnest($1::text[]) AS topic, generate_series(0, 63) AS partition`,
        [['prefect.artifacts', 'prefect.runs']],
      );
    } finally {
      await dataSource.destroy();
    }

    // The query app's own role: SELECT only, every statement it runs logged with its parameters.
    await admin(`CREATE ROLE ${QUERY_ROLE} LOGIN PASSWORD 'fuzz'`);
    await admin(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${QUERY_ROLE}`);
    await admin(`ALTER ROLE ${QUERY_ROLE} SET log_statement = 'all'`);
    await admin(`ALTER ROLE ${QUERY_ROLE} SET log_parameter_max_length = 10000`);
    const url = new URL(adminUrl);
    url.username = QUERY_ROLE;
    url.password = 'fuzz';
    app = spawnApp('query', { DATABASE_URL: url.toString(), QUERY_PORT: String(await freePort()) });
    await waitForStatus(app, '/api/ready');
  }, 300_000);

  afterAll(async () => {
    await app?.stop();
    writeFileSync(
      join(ARTIFACTS, 'http-fuzz.json'),
      `${JSON.stringify({ handWritten, handWrittenStatuses: statuses, schemathesis: schemathesis && { ...schemathesis, output: undefined } }, null, 2)}\n`,
    );
    if (pgDir) await stopPostgres(pgDir).catch(() => undefined);
    if (dir && !process.env.RELIABILITY_KEEP) rmSync(dir, { recursive: true, force: true });
  });

  it('answers hand-written hostile bodies on every POST route without a 5xx', async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const keys = (n: number) => [marks.keyAny, ...Array.from({ length: n - 1 }, (_, i) => `k${i}`)];
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const bodies: (string | Buffer)[] = [
      // nesting: 10k levels (Python gives up: 400), and deep but decodable inside a filter
      deep(10_000),
      `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
      JSON.stringify({ artifacts: { key: { any_: JSON.parse(deep(900)) } } }),
      // huge arrays
      JSON.stringify({ artifacts: { key: { any_: keys(100_000) } } }),
      JSON.stringify({ artifacts: { type: { not_any_: [marks.typeNotAny, ...keys(50_000)] } } }),
      JSON.stringify({ flow_runs: { tags: { all_: [marks.tag, ...keys(50_000)], any_: keys(50_000) } } }),
      JSON.stringify({ flow_runs: { id: { any_: ids(20_000), not_any_: ids(10_000) } } }),
      JSON.stringify({ artifacts: { key: { any_: Array.from({ length: 100_000 }, (_, i) => i) } } }),
      // wrong types everywhere
      JSON.stringify({ limit: 'x', sort: 1, offset: [], artifacts: [], flow_runs: 'x', task_runs: 1, flows: true, deployments: [{}] }),
      JSON.stringify({ artifacts: { key: { any_: 'x', like_: 5, exists_: 'maybe' }, id: { any_: [1, null, {}] }, type: 7, operator: 'xor_' } }),
      JSON.stringify({ flow_runs: { start_time: { before_: 'yesterday', after_: [], is_null_: 2 }, state: { type: { any_: ['DONE'] } }, tags: { all_: [null] } } }),
      JSON.stringify({ task_runs: { subflow_runs: { exists_: {} } }, deployments: { paused: { eq_: 'perhaps' } }, flows: { name: { like_: null, any_: [[]] } } }),
      '[]',
      '"a string"',
      '42',
      'true',
      'null',
      // strings with NUL, SQL fragments, wildcards and backslashes, surrogates, long ones
      JSON.stringify({ artifacts: { key: { like_: `${marks.keyLike}\u0000`, any_: ['\u0000', `a\u0000b`] } } }),
      JSON.stringify({ artifacts: { key: { like_: marks.keyLike } }, flow_runs: { name: { like_: marks.runName, any_: [marks.runName] } } }),
      JSON.stringify({ flows: { name: { like_: marks.flowName, any_: [marks.flowName] } }, deployments: { name: { like_: marks.deploymentName } } }),
      JSON.stringify({ flow_runs: { state: { name: { any_: [marks.stateName] } }, work_queue_name: { any_: [marks.sqlQuote] } } }),
      JSON.stringify({ artifacts: { key: { like_: marks.sqlQuote, any_: [marks.sqlDollar, marks.backslash] } } }),
      JSON.stringify({ artifacts: { key: { like_: marks.sqlDollar } } }),
      JSON.stringify({ artifacts: { key: { like_: marks.backslash } } }),
      JSON.stringify({ artifacts: { key: { like_: '\\' } } }),
      JSON.stringify({ artifacts: { key: { like_: '%_\\%\\_\\\\' } } }),
      '{"artifacts": {"key": {"like_": "\\ud800", "any_": ["\\udfff", "\\ud800\\udc00"]}}, "flows": {"name": {"like_": "\\udbff"}}}',
      JSON.stringify({ artifacts: { key: { like_: 'a'.repeat(900_000) } } }),
      JSON.stringify({ artifacts: { key: { like_: '%_'.repeat(400_000) } } }),
      JSON.stringify({ artifacts: { key: { any_: ['é'.repeat(400_000)] } } }),
      JSON.stringify({ flow_runs: { name: { like_: '\u{1F600}\u200D\uFEFF\u202E' } } }),
      // numbers: limit and offset out of every range, non-finite, huge
      '{"limit": 99999999999999999999999999999999, "offset": 99999999999999999999999999999999}',
      '{"offset": 9223372036854775807}',
      '{"offset": 9223372036854775808, "limit": 1}',
      '{"offset": -1}',
      '{"offset": -9223372036854775809}',
      '{"limit": -1}',
      '{"limit": 1e308, "offset": 1e308}',
      '{"limit": NaN, "offset": Infinity}',
      '{"offset": -Infinity}',
      `{"limit": ${'9'.repeat(5000)}}`,
      '{"limit": 1.5, "offset": "1e3"}',
      // timestamps past every range
      JSON.stringify({ flow_runs: { start_time: { before_: 1e300, after_: -1e300 }, end_time: { before_: 1e16 } } }),
      JSON.stringify({ flow_runs: { start_time: { before_: '0001-01-01T00:00:00+23:59', after_: '9999-12-31T23:59:59-23:59' } } }),
      JSON.stringify({ task_runs: { start_time: { before_: '99999-01-01', after_: '2024-01-01T00:00:00.' + '9'.repeat(10_000) + 'Z' } } }),
      JSON.stringify({ flow_runs: { expected_start_time: { before_: -62135596801, after_: 253402300800 } } }),
      // the web page's own member (ignored by Prefect's routes, validated by /ui-api/artifacts/latest)
      JSON.stringify({ updated_after: '0001-01-01T00:00:00+23:59' }),
      JSON.stringify({ updated_after: '9999-12-31T23:59:59-23:59', artifacts: { key: { like_: marks.keyLike } } }),
      JSON.stringify({ updated_after: 1e300 }),
      JSON.stringify({ updated_after: -62135596801 }),
      JSON.stringify({ updated_after: [marks.sqlQuote], sort: marks.sqlDollar }),
      JSON.stringify({ updated_after: '2024-01-01T00:00:00.' + '9'.repeat(10_000) + 'Z' }),
      // keys JavaScript treats specially
      '{"__proto__": {"limit": -1}, "constructor": {"prototype": {"x": 1}}}',
      '{"artifacts": {"__proto__": {"key": 1}}, "flow_runs": {"constructor": 1}}',
      // duplicate keys: the last one wins, as in Python
      '{"offset": -1, "offset": 0}',
      // invalid JSON
      '{"artifacts": {',
      '{"a": 1,}',
      "{'a': 1}",
      '{"a": "\u0000"}',
      '\u0000',
      '',
      // invalid UTF-8, a lone surrogate encoded as bytes, a BOM
      Buffer.from([0x7b, 0xc3, 0x28, 0x7d]),
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
      Buffer.concat([Buffer.from('{"artifacts": {"key": {"like_": "'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}}}')]),
      Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
      randomBytes(4096),
    ];
    for (const route of POST_ROUTES) {
      for (const body of bodies) await post(route, body);
    }

    // Specific answers.
    const route = '/api/artifacts/filter';
    expect(await post(route, deep(10_000))).toEqual({ status: 400, text: '{"detail":"There was an error parsing the body"}' });
    expect(await post(route, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))).toEqual({ status: 400, text: '{"detail":"There was an error parsing the body"}' });
    expect((await post(route, '{"a": 1,}')).status).toBe(422);
    expect(JSON.parse((await post(route, '{"a": 1,}')).text).exception_detail[0].type).toBe('json_invalid');
    expect(await post(route, '{"limit": -1}')).toEqual({ status: 422, text: '{"detail":"Invalid limit: must be greater than or equal to 0."}' });
    expect(JSON.parse((await post(route, '{"offset": -1}')).text).exception_detail[0]).toMatchObject({ type: 'greater_than_equal', loc: ['body', 'offset'] });
    expect(await post(route, '{"offset": 9223372036854775808, "limit": 1}')).toEqual({ status: 200, text: '[]' });
    expect(await post('/api/artifacts/count', JSON.stringify({ artifacts: { key: { any_: keys(100_000) } } }))).toEqual({ status: 200, text: '0' });
    expect(await post('/ui-api/artifacts/latest', '{"limit": -1}')).toEqual({ status: 422, text: '{"detail":"Invalid limit: must be greater than or equal to 0."}' });
    expect(await post('/ui-api/artifacts/latest', '{"offset": 9223372036854775808, "limit": 1}')).toEqual({ status: 200, text: '{"count":7,"offset":9007199254740991,"limit":1,"rows":[]}' });
    expect(JSON.parse((await post('/ui-api/artifacts/latest', '{"updated_after": "soon"}')).text).exception_detail[0]).toMatchObject({ loc: ['body', 'updated_after'] });
    // A body over the 1 MiB limit: 10 MB of JSON, and 10 MB of anything, on every route; also one
    // byte over, and a body without Content-Length (chunked) that grows past the limit.
    const tooLarge = { status: 413, text: '{"detail":"Request body is too large"}' };
    const tenMegabytes = Buffer.from(JSON.stringify({ artifacts: { key: { any_: keys(1_000_000) } } }).slice(0, 10_000_000));
    for (const r of POST_ROUTES) {
      expect(await sendLarge(r, tenMegabytes, 'application/json')).toEqual(tooLarge);
      expect(await sendLarge(r, randomBytes(10 * 1024 * 1024), 'application/octet-stream')).toEqual(tooLarge);
      expect(await sendLarge(r, Buffer.alloc(ONE_MIB + 1, 0x20), 'application/json')).toEqual(tooLarge);
      expect(await sendLarge(r, tenMegabytes, 'application/json', true)).toEqual(tooLarge);
      expect((await post(r, `${' '.repeat(ONE_MIB - 2)}{}`)).status).toBe(200); // exactly 1 MiB is fine
    }
    // Content types: not JSON means "no body" (Prefect); odd but valid header values.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin-1', 'application/json/x', '*/*', ';;;', 'application/vnd.x+json']) {
      await post(route, '{"offset": -1, "artifacts": {"key": {"like_": "%"}}}', { 'content-type': type });
    }
    await post(route, '{"offset": -1}', {});
    expect(await post(route, '{}', { 'content-type': 'text/plain', 'x-prefect-api-version': '9'.repeat(5000) + '.0.0' })).toMatchObject({ status: 200 });
    expect((await post(route, '{}', { 'content-type': 'application/json', 'x-prefect-api-version': 'x.y' })).status).toBe(400);
    // Many at once, huge and small: the pool queues them, none fails.
    const parallel = await Promise.all(
      Array.from({ length: 24 }, (_, i) => send('POST', POST_ROUTES[i % 4] as string, i % 2 ? JSON.stringify({ artifacts: { key: { any_: keys(50_000) } } }) : '{"limit": 5}')),
    );
    for (const answer of parallel) expect(answer.status).toBe(200);

    expect(await send('GET', '/api/health')).toEqual({ status: 200, text: 'true' });
    expect((await send('GET', '/api/ready')).status).toBe(200);
  });

  it('answers hostile path parameters without a 5xx', async () => {
    const paths = [
      `/api/artifacts/${encodeURIComponent(marks.path)}/latest`,
      `/api/artifacts/${encodeURIComponent(marks.sqlQuote)}/latest`,
      `/api/artifacts/${encodeURIComponent(marks.sqlDollar)}/latest`,
      `/api/artifacts/${encodeURIComponent(marks.backslash)}/latest`,
      '/api/artifacts/%00/latest',
      '/api/artifacts/a%00b/latest',
      '/api/artifacts/%ed%a0%80/latest',
      '/api/artifacts/%ff%fe/latest',
      '/api/artifacts/%ZZ/latest',
      '/api/artifacts/%/latest',
      '/api/artifacts/%25/latest',
      '/api/artifacts/a%25c-3/latest',
      '/api/artifacts/a_c-3/latest',
      '/api/artifacts/..%2f..%2fetc%2fpasswd/latest',
      `/api/artifacts/${'a'.repeat(60_000)}/latest`,
      `/api/artifacts/${'%F0%9F%98%80'.repeat(1000)}/latest`,
      '/api/artifacts/00000000-0000-0000-0000-000000000000',
      '/api/artifacts/00000000000000000000000000000000',
      '/api/artifacts/{00000000-0000-0000-0000-000000000000}',
      '/api/artifacts/000000000000000000000000000000000',
      '/api/artifacts/ffffffff-ffff-ffff-ffff-ffffffffffff',
      `/api/artifacts/${'0'.repeat(60_000)}`,
      '/api/artifacts/%00',
      '/api/artifacts/latest/filter',
      '/api/artifacts/filter?limit=-1&offset=NaN',
      '/api/artifacts//latest',
      '/api//artifacts/filter',
      '/docs/static/..%2f..%2fpackage.json',
      '/docs/static/%00',
      '/ui/%00',
      // the web page's GET routes (issue #16)
      '/ui-api/artifacts/00000000-0000-0000-0000-000000000000',
      '/ui-api/artifacts/{00000000-0000-0000-0000-000000000000}',
      `/ui-api/artifacts/${encodeURIComponent(marks.sqlQuote)}`,
      `/ui-api/artifacts/${'0'.repeat(60_000)}`,
      '/ui-api/artifacts/%00',
      '/ui-api/runs/00000000000000000000000000000000',
      '/ui-api/runs/FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
      `/ui-api/runs/${encodeURIComponent(marks.path)}`,
      '/ui-api/runs/%ed%a0%80',
      '/ui-api/runs/',
      '/ui-api/',
      '/ui/pipeline-status?x=%00',
      `/api/${'x/'.repeat(5000)}`,
    ];
    for (const path of paths) {
      for (const method of ['GET', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS']) {
        const answer = await send(method, path, undefined, {});
        expect([method, path.slice(0, 80), answer.status < 500]).toEqual([method, path.slice(0, 80), true]);
        if (method === 'GET') expectSane(`GET ${path.slice(0, 80)}`, answer);
      }
    }
    // Exact key lookup: no wildcards.
    expect(JSON.parse((await send('GET', '/api/artifacts/a_c-3/latest')).text).key).toBe('a_c-3');
    expect(await send('GET', '/api/artifacts/a%25c-3/latest')).toEqual({ status: 404, text: '{"detail":"Artifact not found."}' });
    expect(await send('GET', '/api/health')).toEqual({ status: 200, text: 'true' });
  });

  it('matches like_ as PostgreSQL-backed Prefect does: live % and _, backslash escapes, ASCII case folded on key', async () => {
    const latestKeys = async (likeText: string) => {
      const answer = await post('/api/artifacts/latest/filter', `{"sort": "KEY_ASC", "artifacts": {"key": {"like_": ${likeText}}}}`);
      expect(answer.status).toBe(200);
      return (JSON.parse(answer.text) as { key: string }[]).map((a) => a.key);
    };
    const all = ['ABC-4', 'a_c-3', 'abc-1', 'abd-2', 'back\\slash-6', 'x%y-5', 'ünïcode-Ä-7'];
    expect(await latestKeys('"a_c"')).toEqual(['ABC-4', 'a_c-3', 'abc-1']);
    expect(await latestKeys('"a%2"')).toEqual(['abd-2']);
    expect(await latestKeys('"a\\\\_c"')).toEqual(['a_c-3']);
    expect(await latestKeys('"x\\\\%"')).toEqual(['x%y-5']);
    expect(await latestKeys('"c\\\\-"')).toEqual(['ABC-4', 'a_c-3', 'abc-1']);
    expect(await latestKeys('"k\\\\\\\\s"')).toEqual(['back\\slash-6']);
    expect(await latestKeys('"K\\\\S"')).toEqual([]);
    expect(await latestKeys('"\\\\"')).toEqual([]);
    expect(await latestKeys('"%"')).toEqual(all);
    expect(await latestKeys('""')).toEqual(all);
    // On key (COLLATE "C") case folds for ASCII only, as apps/query/README.md documents (SQLite's way, §11).
    expect(await latestKeys('"Ä"')).toEqual(['ünïcode-Ä-7']);
    expect(await latestKeys('"ä"')).toEqual([]);
    expect(await latestKeys('"\\u0000"')).toEqual([]);
    expect(await latestKeys('"\'; drop table artifact; --"')).toEqual([]);
    expect(await post('/api/artifacts/count', '{"artifacts": {"key": {"like_": "abc"}}}')).toEqual({ status: 200, text: '3' });
    expect(await post('/api/artifacts/count', '{"artifacts": {"key": {"any_": ["a_c-3", "a%c-3", "A_C-3"]}}}')).toEqual({ status: 200, text: '1' });
  });

  it('passes Schemathesis: no server error, answers as documented', async () => {
    const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(1, 2 ** 31);
    schemathesis = await runSchemathesis({
      schemaUrl: `${app.url}/docs-json`,
      reportDir: join(dir, 'schemathesis'),
      checks: ['not_a_server_error', 'response_schema_conformance', 'content_type_conformance'],
      maxExamples,
      seed,
      // A subscription is a stream that answers until the client leaves: a request-response
      // fuzzer would count each as a hang. Its validation (the latest/filter body, the same
      // 422s), auth and resume are tested in test/ops/subscriptions.e2e-spec.ts.
      excludePaths: ['/api/artifacts/latest/subscribe', '/ui/pipeline-status/subscribe'],
    });
    const { output, ...figures } = schemathesis;
    process.stderr.write(`[reliability] http-fuzz: schemathesis ${JSON.stringify(figures)}\n`);
    if (schemathesis.exitCode !== 0) process.stderr.write(output.slice(-20_000));
    expect({ exit: schemathesis.exitCode, failures: schemathesis.failures, errors: schemathesis.errors }).toEqual({ exit: 0, failures: 0, errors: 0 });
    expect(schemathesis.operations).toBeGreaterThanOrEqual(9);
    // Floors that prove the run was not vacuous, scaled by the examples per operation (150: ~7,000 requests, ~2,700 × 200).
    expect(schemathesis.requests).toBeGreaterThan(20 * maxExamples);
    expect(Object.keys(schemathesis.statuses).filter((s) => s === 'none' || Number(s) >= 500)).toEqual([]);
    expect(schemathesis.statuses['200']).toBeGreaterThan(3 * maxExamples);
    expect(await send('GET', '/api/health')).toEqual({ status: 200, text: 'true' });
    expect((await send('GET', '/api/ready')).status).toBe(200);
  }, 900_000);

  it('sent request values to PostgreSQL only as bind parameters', async () => {
    // The seeded rows are all there: nothing was dropped or changed.
    expect(await admin<{ n: string }>('SELECT count(*)::text AS n FROM artifact')).toEqual([{ n: '9' }]);
    const entries = parseLog(readFileSync(logFile, 'utf8')).filter((e) => e.user === QUERY_ROLE);
    const statements = entries.filter((e) => e.statement !== undefined).map((e) => e.statement as string);
    const parameters = entries.filter((e) => e.level === 'DETAIL' && /^parameters: /i.test(e.message)).map((e) => e.message);
    process.stderr.write(`[reliability] http-fuzz: ${statements.length} statements of ${QUERY_ROLE} logged, ${parameters.length} with parameters\n`);
    expect(statements.length).toBeGreaterThan(6 * maxExamples);
    // Not vacuous: each sentinel reached PostgreSQL, as a parameter.
    for (const [name, mark] of Object.entries(marks)) {
      const bare = mark.slice(mark.indexOf(sentinel));
      expect([name, parameters.some((p) => p.includes(bare.split(' ')[0] as string))]).toEqual([name, true]);
    }
    // And never as statement text.
    expect(statements.filter((s) => s.includes(sentinel)).map((s) => s.slice(0, 300))).toEqual([]);
    expect(statements.filter((s) => /drop table/i.test(s)).map((s) => s.slice(0, 300))).toEqual([]);
  });
});

interface LogEntry {
  user: string;
  level: string;
  message: string;
  /** The statement text, for "statement: ...", "execute <name>: ..." and STATEMENT entries. */
  statement?: string;
}

/** PostgreSQL's stderr log with log_line_prefix '%m [%p] user=%u '; continuation lines start with a tab. */
function parseLog(text: string): LogEntry[] {
  const entries: LogEntry[] = [];
  const head = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] user=(\S*) ([A-Z]+): {2}([\s\S]*)$/;
  for (const line of text.split('\n')) {
    const m = head.exec(line);
    if (m) entries.push({ user: m[1] as string, level: m[2] as string, message: m[3] as string });
    else if (entries.length > 0) (entries[entries.length - 1] as LogEntry).message += `\n${line.replace(/^\t/, '')}`;
  }
  for (const e of entries) {
    const m = e.level === 'LOG' ? /^(?:statement|execute [^:]*|parse [^:]*|bind [^:]*): ([\s\S]*)$/.exec(e.message) : undefined;
    if (m) e.statement = m[1];
    else if (e.level === 'STATEMENT') e.statement = e.message;
  }
  return entries;
}
