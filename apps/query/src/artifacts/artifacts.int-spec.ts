import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect } from 'node:net';
import pino from 'pino';
import { createTestDatabase, TestDatabase } from '../../../../test/support/database';
import { ReadModelFixtures } from '../../test/read-model-fixtures';
import { startQueryApp } from '../query.module';

// The artifact routes against real PostgreSQL, over HTTP, bodies compared byte for byte.

let db: TestDatabase;
let app: NestFastifyApplication;
let base: string;
let rows: ReadModelFixtures;

beforeAll(async () => {
  db = await createTestDatabase('query_artifacts');
  rows = new ReadModelFixtures(db.dataSource);
  ({ app, url: base } = await startQueryApp(
    { databaseUrl: db.url, port: 0, defaultLimit: 200, logLevel: 'silent' },
    pino({ level: 'silent' }),
  ));
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

beforeEach(() => rows.clear());

async function post(path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

async function get(path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(base + path);
  return { status: response.status, text: await response.text() };
}

const ids = async (path: string, body: unknown, member = 'id') => {
  const { status, text } = await post(path, body);
  expect(status).toBe(200);
  return (JSON.parse(text) as Record<string, string>[]).map((r) => r[member]);
};

describe('serialisation (§9)', () => {
  it('writes an Artifact exactly as Prefect does', async () => {
    const id = await rows.artifact({
      id: 'A1B2C3D4-0000-4000-8000-00000000000A',
      created: '2024-05-01T09:30:00.125+02:00',
      updated: '2024-05-03T17:02:44Z',
      key: 'daily-report',
      type: 'markdown',
      description: 'Nightly "summary"\n\u00e9\u4e2d\u{1F600}\u0001',
      data: '{"n":1.0,"big":123456789012345678901234567890,"neg":-0.0,"s":"é"}',
      metadata_: '{"owner":"ops"}',
      flow_run_id: '5C52EF97-C8AB-4C25-BAF4-79AC226AFE8E',
    });
    const expected =
      '{"id":"a1b2c3d4-0000-4000-8000-00000000000a","created":"2024-05-01T07:30:00.125000Z","updated":"2024-05-03T17:02:44Z",' +
      '"key":"daily-report","type":"markdown","description":"Nightly \\"summary\\"\\né中😀\\u0001",' +
      '"data":{"n":1.0,"big":123456789012345678901234567890,"neg":-0.0,"s":"é"},"metadata_":{"owner":"ops"},' +
      '"flow_run_id":"5c52ef97-c8ab-4c25-baf4-79ac226afe8e","task_run_id":null}';
    expect(await get(`/api/artifacts/${id}`)).toEqual({ status: 200, text: expected });
    expect(await post('/api/artifacts/filter', {})).toEqual({ status: 200, text: `[${expected}]` });
  });

  it('writes an ArtifactCollection with latest_id, and E3 in the Artifact shape with the collection id (Q1)', async () => {
    await rows.artifact({ created: '2024-01-01T00:00:00Z', key: 'k', data: '1' });
    const latest = await rows.artifact({ created: '2024-01-02T00:00:00.000001Z', key: 'k', type: 'table', data: '[1, 2]' });
    const [collection] = (await db.dataSource.query('SELECT id FROM artifact_collection')) as { id: string }[];
    const tail = '"type":"table","description":null,"data":[1, 2],"metadata_":null,"flow_run_id":null,"task_run_id":null}';
    expect(await post('/api/artifacts/latest/filter')).toEqual({
      status: 200,
      text: `[{"id":"${collection?.id}","created":"2024-01-01T00:00:00Z","updated":"2024-01-02T00:00:00.000001Z","key":"k","latest_id":"${latest}",${tail}]`,
    });
    expect(await get('/api/artifacts/k/latest')).toEqual({
      status: 200,
      text: `{"id":"${collection?.id}","created":"2024-01-01T00:00:00Z","updated":"2024-01-02T00:00:00.000001Z","key":"k",${tail}`,
    });
  });

  it('answers empty tables with [] and 0', async () => {
    expect(await post('/api/artifacts/latest/filter')).toEqual({ status: 200, text: '[]' });
    expect(await post('/api/artifacts/filter')).toEqual({ status: 200, text: '[]' });
    expect(await post('/api/artifacts/count')).toEqual({ status: 200, text: '0' });
    expect(await post('/api/artifacts/latest/count')).toEqual({ status: 200, text: '0' });
  });
});

describe('E3 / E6 lookups', () => {
  it('finds a version by any UUID spelling and a key exactly', async () => {
    const id = await rows.artifact({ created: '2024-01-01T00:00:00Z', key: 'alpha' });
    const hyphenless = id.replaceAll('-', '').toUpperCase();
    expect((await get(`/api/artifacts/${hyphenless}`)).status).toBe(200);
    expect(await get('/api/artifacts/ALPHA/latest')).toEqual({ status: 404, text: '{"detail":"Artifact not found."}' });
    expect(await get('/api/artifacts/00000000-0000-4000-8000-000000000000')).toEqual({ status: 404, text: '{"detail":"Artifact not found."}' });
    expect(await get('/api/artifacts/not-a-uuid')).toEqual({ status: 404, text: '{"detail":"Not Found"}' });
    expect(await get('/api/artifacts//latest')).toEqual({ status: 404, text: '{"detail":"Not Found"}' });
  });

  it('decodes the key segment', async () => {
    await rows.artifact({ created: '2024-01-01T00:00:00Z', key: 'a b%é' });
    expect((await get('/api/artifacts/a%20b%25%C3%A9/latest')).status).toBe(200);
  });
});

describe('routing as Prefect 3.6.24 on PostgreSQL (issue 12, probed)', () => {
  async function raw(method: string, path: string) {
    const response = await fetch(base + path, { method });
    return { status: response.status, text: await response.text(), allow: response.headers.get('allow'), length: response.headers.get('content-length') };
  }

  it('routes a key segment of any length (find-my-way stops at 100 characters unless told)', async () => {
    const key = 'k'.repeat(295);
    await rows.artifact({ created: '2024-01-01T00:00:00Z', key, data: '1' });
    const found = await get(`/api/artifacts/${key}/latest`);
    expect(found.status).toBe(200);
    expect(JSON.parse(found.text)).toMatchObject({ key, data: 1 });
    expect(await get(`/api/artifacts/${'k'.repeat(101)}/latest`)).toEqual({ status: 404, text: '{"detail":"Artifact not found."}' });
  });

  it('redirects a long key path with a trailing slash like any other (307)', async () => {
    const key = 'long-key-'.repeat(32);
    const response = await fetch(`${base}/api/artifacts/${key}/latest/`, { redirect: 'manual' });
    expect({ status: response.status, location: response.headers.get('location')?.replace(/^http:\/\/[^/]+/, '') }).toEqual({
      status: 307,
      location: `/api/artifacts/${key}/latest`,
    });
  });

  it('answers a request line Node cannot parse (a raw non-ASCII byte) as uvicorn does', async () => {
    const { port } = new URL(base);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(Buffer.from('GET /api/artifacts/\u00e9/latest HTTP/1.1\r\nHost: x\r\n\r\n', 'utf8')));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('utf8')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toBe('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nInvalid HTTP request received.');
  });

  it('refuses a request line over the header limit with 431 and says it closes the connection', async () => {
    const { port } = new URL(base);
    const answer = await new Promise<{ text: string; error?: string }>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      let text = '';
      socket.on('connect', () => socket.write(`GET /api/artifacts/${'a'.repeat(60_000)}/latest HTTP/1.1\r\nHost: x\r\n\r\n`));
      socket.on('data', (chunk) => (text += chunk.toString('utf8')));
      socket.on('close', () => resolve({ text }));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve({ text, error: error.code }));
    });
    // Without "Connection: close" a keep-alive client pools the socket the server is closing
    // and its next request fails with "other side closed".
    expect(answer).toEqual({
      text: 'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 114\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"Request Header Fields Too Large","message":"Exceeded maximum allowed HTTP header size","statusCode":431}',
    });
  });

  it.each(['%', 'a%', '%E9', '%C3', '%E9%', 'a%zz'])('looks the undecodable key %s up: 404 Artifact not found.', async (segment) => {
    expect(await get(`/api/artifacts/${segment}/latest`)).toEqual({ status: 404, text: '{"detail":"Artifact not found."}' });
  });

  it.each(['%', '%E9', '%C3', '%E9/'])('answers GET /api/artifacts/%s (no UUID) with 404 Not Found', async (segment) => {
    expect(await get(`/api/artifacts/${segment}`)).toEqual({ status: 404, text: '{"detail":"Not Found"}' });
  });

  it('answers HEAD on GET routes with 405, allow: GET and the length of the body it does not send', async () => {
    const id = await rows.artifact({ created: '2024-01-01T00:00:00Z', key: 'k' });
    for (const path of [`/api/artifacts/${id}`, '/api/artifacts/k/latest', '/api/artifacts/%E9/latest', '/api/health', '/api/ready', '/api/admin/version']) {
      expect({ path, ...(await raw('HEAD', path)) }).toEqual({ path, status: 405, text: '', allow: 'GET', length: '31' });
    }
    expect(await raw('HEAD', '/api/artifacts/filter')).toEqual({ status: 405, text: '', allow: 'POST', length: '31' });
    expect(await raw('PUT', '/api/artifacts/k/latest')).toEqual({ status: 405, text: '{"detail":"Method Not Allowed"}', allow: 'GET', length: '31' });
    expect(await raw('GET', '/api/artifacts/')).toEqual({ status: 405, text: '{"detail":"Method Not Allowed"}', allow: 'POST', length: '31' });
  });
});

describe('deliberate deviations: where Prefect on PostgreSQL answers 5xx (docs/api.md, last section)', () => {
  it('answers [] for an offset beyond the signed 64-bit range (Prefect: 503)', async () => {
    await rows.artifact({ created: '2024-01-01T00:00:00Z', key: 'k' });
    expect(await post('/api/artifacts/filter', '{"offset": 9223372036854775808}')).toEqual({ status: 200, text: '[]' });
    expect(await post('/api/artifacts/latest/filter', '{"offset": 9223372036854775808}')).toEqual({ status: 200, text: '[]' });
  });

  it('answers 422 finite_number for {"limit": NaN} (Prefect: 500)', async () => {
    expect(await post('/api/artifacts/filter', '{"limit": NaN}')).toEqual({
      status: 422,
      text: '{"exception_message":"Invalid request received.","exception_detail":[{"type":"finite_number","loc":["body","limit"],"msg":"Input should be a finite number","input":null}],"request_body":{"limit":null}}',
    });
  });

  it('answers 404 Artifact not found. for GET /api/artifacts/%00/latest (Prefect: 503)', async () => {
    expect(await get('/api/artifacts/%00/latest')).toEqual({ status: 404, text: '{"detail":"Artifact not found."}' });
  });

  it('answers 422 for a +24:00 offset in an otherwise valid body (Prefect: 503)', async () => {
    const body = '{"flow_runs":{"start_time":{"after_":"2024-01-01T00:00:00+24:00"}}}';
    expect(await post('/api/artifacts/latest/count', body)).toEqual({
      status: 422,
      text: `{"exception_message":"Invalid request received.","exception_detail":[{"type":"value_error","loc":["body","flow_runs","start_time","after_"],"msg":"Value error, Unable to parse string [2024-01-01T00:00:00+24:00]","input":"2024-01-01T00:00:00+24:00","ctx":{"error":{}}}],"request_body":${body}}`,
    });
  });

  it('answers an or_ that an empty filter makes TRUE, with the values of its other members unbound (a +24:00 offset among them)', async () => {
    const run = await rows.flowRun({});
    await rows.artifact({ created: '2024-01-01T00:00:00Z', key: 'k', flow_run_id: run });
    await rows.artifact({ created: '2024-01-01T00:00:01Z', key: 'j' });
    const flowRuns = '"flow_runs":{"operator":"or_","tags":{"operator":"or_"},"name":{"any_":["x"]},"start_time":{"after_":"2024-01-01T00:00:00+24:00"}}';
    expect(await post('/api/artifacts/count', `{${flowRuns}}`)).toEqual({ status: 200, text: '1' });
    expect(await post('/api/artifacts/latest/count', `{"artifacts":{"key":{"any_":["k","j"]}},${flowRuns}}`)).toEqual({ status: 200, text: '1' });
    expect(await post('/api/artifacts/filter', `{"artifacts":{"operator":"or_","key":{},"type":{"any_":["t"]}},"limit":1,"offset":1}`)).toMatchObject({ status: 200 });
  });
});

describe('paging and order (§5, §6)', () => {
  async function seed() {
    const a = await rows.artifact({ created: '2024-01-01T00:00:03Z', key: 'b' });
    const b = await rows.artifact({ created: '2024-01-01T00:00:01Z', key: 'a' });
    const c = await rows.artifact({ created: '2024-01-01T00:00:02Z' });
    const d = await rows.artifact({ created: '2024-01-01T00:00:02Z', key: 'B' });
    return { a, b, c, d };
  }

  it('orders versions, keyless last ascending and first descending (PostgreSQL), ties by id', async () => {
    const { a, b, c, d } = await seed();
    const [firstTie, secondTie] = [c, d].sort().reverse();
    expect(await ids('/api/artifacts/filter', { sort: 'CREATED_DESC' })).toEqual([a, firstTie, secondTie, b]);
    expect(await ids('/api/artifacts/filter', { sort: 'KEY_ASC' })).toEqual([d, b, a, c]);
    expect(await ids('/api/artifacts/filter', { sort: 'KEY_DESC' })).toEqual([c, a, b, d]);
    expect(await ids('/api/artifacts/filter', { sort: 'ID_DESC' })).toEqual([a, b, c, d].sort().reverse());
  });

  it('pages after ordering, with and without offset', async () => {
    const { a, b, c, d } = await seed();
    const all = await ids('/api/artifacts/filter', { sort: 'CREATED_DESC' });
    expect(all).toHaveLength(4);
    expect(await ids('/api/artifacts/filter', { sort: 'CREATED_DESC', limit: 2, offset: 1 })).toEqual(all.slice(1, 3));
    expect(await ids('/api/artifacts/filter', { sort: 'CREATED_DESC', offset: 3 })).toEqual(all.slice(3));
    expect(await ids('/api/artifacts/filter', { offset: 10 })).toEqual([]);
    expect(await ids('/api/artifacts/filter', { limit: false })).toEqual([]);
    expect(await post('/api/artifacts/filter', '{"offset": 1000000000000000000000000000000}')).toEqual({ status: 200, text: '[]' });
    expect(await ids('/api/artifacts/latest/filter', { sort: 'KEY_ASC', offset: 1 }, 'key')).toEqual(['a', 'b']);
    expect(await ids('/api/artifacts/latest/filter', { sort: 'UPDATED_DESC' }, 'latest_id')).toEqual([a, d, b]);
    void c;
  });
});

describe('artifact filters (§7.3, §7.4)', () => {
  it('like_ is a case-insensitive substring with live wildcards (Q4)', async () => {
    await rows.artifact({ created: '2024-01-01T00:00:01Z', key: 'abc-1' });
    await rows.artifact({ created: '2024-01-01T00:00:02Z', key: 'abd-2' });
    await rows.artifact({ created: '2024-01-01T00:00:03Z', key: 'xyz' });
    const keys = (like: string) => ids('/api/artifacts/latest/filter', { sort: 'KEY_ASC', artifacts: { key: { like_: like } } }, 'key');
    expect(await keys('a_c')).toEqual(['abc-1']);
    expect(await keys('a%2')).toEqual(['abd-2']);
    expect(await keys('AB')).toEqual(['abc-1', 'abd-2']);
    expect(await keys('')).toEqual(['abc-1', 'abd-2', 'xyz']);
  });

  it('not_any_ drops NULL types, an empty any_ matches nothing, exists_ splits keyless versions', async () => {
    await rows.artifact({ created: '2024-01-01T00:00:01Z', key: 'k1', type: 'table' });
    await rows.artifact({ created: '2024-01-01T00:00:02Z', key: 'k2' });
    await rows.artifact({ created: '2024-01-01T00:00:03Z', type: 'markdown' });
    const count = async (body: unknown) => (await post('/api/artifacts/count', body)).text;
    expect(await count({ artifacts: { type: { not_any_: ['table'] } } })).toBe('1');
    expect(await count({ artifacts: { type: { not_any_: [] } } })).toBe('3');
    expect(await count({ artifacts: { type: { any_: [] } } })).toBe('0');
    expect(await count({ artifacts: { key: { exists_: false } } })).toBe('1');
    expect(await count({ artifacts: { key: { exists_: true } } })).toBe('2');
    expect((await post('/api/artifacts/latest/count', { artifacts: { key: { exists_: false } } })).text).toBe('0');
    expect(await count({ artifacts: { operator: 'or_', key: {}, type: { any_: ['nope'] } } })).toBe('3');
  });
});

describe('cross-entity filters (§8 worked example)', () => {
  let fr1: string;
  let fr2: string;
  let flow2: string;

  beforeEach(async () => {
    const flow1 = await rows.flow({ name: 'flow-one' });
    flow2 = await rows.flow({ name: 'flow-two' });
    const dep = await rows.deployment({ flow_id: flow1, name: 'dep' });
    fr1 = await rows.flowRun({ flow_id: flow1, deployment_id: dep, name: 'fr1' });
    fr2 = await rows.flowRun({ flow_id: flow2, name: 'fr2' });
    const tr1 = await rows.taskRun({ flow_run_id: fr1, name: 'tr1' });
    await rows.artifact({ created: '2024-01-01T00:00:01Z', key: 'abc-1', flow_run_id: fr1, task_run_id: tr1 });
    await rows.artifact({ created: '2024-01-01T00:00:02Z', key: 'abd-2', flow_run_id: fr2 });
    await rows.artifact({ created: '2024-01-01T00:00:03Z', key: 'orphan', flow_run_id: '00000000-0000-4000-8000-000000000001', task_run_id: '00000000-0000-4000-8000-000000000002' });
  });

  const keys = (body: object) => ids('/api/artifacts/latest/filter', { sort: 'KEY_ASC', ...body }, 'key');

  it.each([
    [{}, ['abc-1', 'abd-2', 'orphan']],
    [{ flow_runs: {} }, ['abc-1', 'abd-2']],
    [{ flows: {} }, ['abc-1', 'abd-2']],
    [{ deployments: {} }, ['abc-1']],
    [{ task_runs: {} }, ['abc-1']],
    [{ flows: { deployment: { is_null_: true } } }, ['abd-2']],
    [{ deployments: { flow_or_deployment_name: { like_: 'ONE' } } }, ['abc-1']],
  ])('%j', async (body, expected) => {
    expect(await keys(body)).toEqual(expected);
  });

  it('requires flow and flow-run conditions to hold for the same run', async () => {
    expect(await keys({ flows: { name: { any_: ['flow-two'] } }, flow_runs: { id: { any_: [fr1] } } })).toEqual([]);
    expect(await keys({ flows: { id: { any_: [flow2] } }, flow_runs: { id: { any_: [fr2] } } })).toEqual(['abd-2']);
  });

  it('matches a deployment or a flow by id while its row exists; a run\'s deployment_id and state need no row (the copies of migration 080)', async () => {
    const flow3 = await rows.flow({ name: 'flow-three' });
    const dep3 = await rows.deployment({ flow_id: flow3, name: 'dep-three' });
    const fr3 = await rows.flowRun({ flow_id: flow3, deployment_id: dep3, name: 'fr3', state_type: 'FAILED', state_name: 'Failed' });
    await rows.artifact({ created: '2024-01-01T00:00:05Z', key: 'gone-1', flow_run_id: fr3 });
    const byDeployment = { deployments: { id: { any_: [dep3] } } };
    const byFlow = { flows: { id: { any_: [flow3] } } };
    const byRun = { flow_runs: { deployment_id: { any_: [dep3] }, state: { type: { any_: ['FAILED'] } } } };
    const answers = async () => {
      const out: [unknown[], string][] = [];
      for (const body of [byDeployment, byFlow, byRun]) out.push([await keys({ ...body, sort: 'CREATED_DESC', offset: 0 }), (await post('/api/artifacts/latest/count', body)).text]);
      return out;
    };
    expect(await answers()).toEqual([[['gone-1'], '1'], [['gone-1'], '1'], [['gone-1'], '1']]);
    await db.dataSource.query('DELETE FROM deployment WHERE id = $1', [dep3]);
    await db.dataSource.query('DELETE FROM flow WHERE id = $1', [flow3]);
    expect(await answers()).toEqual([[[], '0'], [[], '0'], [['gone-1'], '1']]);
  });

  it('uses the latest version\'s run for collections (Q9)', async () => {
    await rows.artifact({ created: '2024-01-01T00:00:04Z', key: 'abc-1', flow_run_id: fr2 });
    expect(await keys({ flow_runs: { id: { any_: [fr1] } } })).toEqual([]);
    expect((await post('/api/artifacts/count', { flow_runs: { id: { any_: [fr1] } } })).text).toBe('1');
  });
});

describe('run filters', () => {
  it('state quirk, start_time coalesce, created_by, subflows and task-run flow_run_id', async () => {
    const parentRun = await rows.flowRun({ name: 'parent', state_type: 'COMPLETED', state_name: 'Completed', start_time: '2024-01-01T12:00:00Z' });
    const parentTask = await rows.taskRun({ flow_run_id: parentRun, name: 'spawner' });
    const child = await rows.flowRun({
      name: 'child',
      state_type: 'SCHEDULED',
      state_name: 'Scheduled',
      expected_start_time: '2024-01-02T00:00:00Z',
      parent_task_run_id: parentTask,
      created_by: '{"id": "3f2e1d0c-9b8a-4766-8554-433221100fed", "type": "DEPLOYMENT", "display_value": "dep"}',
    });
    const orphanTask = await rows.taskRun({ name: 'loose' });
    await rows.artifact({ created: '2024-01-01T00:00:01Z', key: 'p', flow_run_id: parentRun, task_run_id: parentTask });
    await rows.artifact({ created: '2024-01-01T00:00:02Z', key: 'c', flow_run_id: child, task_run_id: orphanTask });
    const keys = (body: object) => ids('/api/artifacts/latest/filter', { sort: 'KEY_ASC', ...body }, 'key');

    expect(await keys({ flow_runs: { state: { type: { any_: ['COMPLETED'], not_any_: ['COMPLETED'] } } } })).toEqual(['c', 'p']);
    expect(await keys({ flow_runs: { state: { type: { not_any_: ['COMPLETED'] } } } })).toEqual(['c']);
    expect(await keys({ flow_runs: { start_time: { after_: '2024-01-01T22:00:00-02:00' } } })).toEqual(['c']);
    expect(await keys({ flow_runs: { start_time: { is_null_: true } } })).toEqual(['c']);
    expect(await keys({ flow_runs: { created_by: { type_: ['DEPLOYMENT'] } } })).toEqual(['c']);
    expect(await keys({ flow_runs: { created_by: { id_: ['3F2E1D0C9B8A47668554433221100FED'] } } })).toEqual(['c']);
    expect(await keys({ flow_runs: { created_by: { is_null_: true } } })).toEqual(['p']);
    expect(await keys({ flow_runs: { parent_flow_run_id: { any_: [parentRun] } } })).toEqual(['c']);
    expect(await keys({ flow_runs: { parent_task_run_id: { is_null_: false } } })).toEqual(['c']);
    expect(await keys({ task_runs: { subflow_runs: { exists_: true } } })).toEqual(['p']);
    expect(await keys({ task_runs: { flow_run_id: {} } })).toEqual(['p']);
    expect(await keys({ task_runs: { flow_run_id: { is_null_: true } } })).toEqual(['c']);
    expect(await keys({ task_runs: { flow_run_id: { is_null_: null } } })).toEqual(['c', 'p']);
  });

  it('tags: all_, any_, is_null_', async () => {
    const red = await rows.flowRun({ name: 'r', tags: ['db', 'red'] });
    const bare = await rows.flowRun({ name: 'b' });
    await rows.artifact({ created: '2024-01-01T00:00:01Z', key: 'red', flow_run_id: red });
    await rows.artifact({ created: '2024-01-01T00:00:02Z', key: 'bare', flow_run_id: bare });
    const keys = (tags: object) => ids('/api/artifacts/latest/filter', { sort: 'KEY_ASC', flow_runs: { tags } }, 'key');
    expect(await keys({ all_: ['red', 'db'] })).toEqual(['red']);
    expect(await keys({ all_: [] })).toEqual(['bare', 'red']);
    expect(await keys({ any_: ['blue', 'red'] })).toEqual(['red']);
    expect(await keys({ any_: [] })).toEqual([]);
    expect(await keys({ is_null_: true })).toEqual(['bare']);
    expect(await keys({ operator: 'or_', is_null_: true, all_: ['db'] })).toEqual(['bare', 'red']);
  });
});

describe('counts kept by triggers', () => {
  it('follow inserts, deletes and truncation', async () => {
    const first = await rows.artifact({ created: '2024-01-01T00:00:01Z', key: 'k' });
    await rows.artifact({ created: '2024-01-01T00:00:02Z', key: 'k' });
    await rows.artifact({ created: '2024-01-01T00:00:03Z' });
    expect((await post('/api/artifacts/count')).text).toBe('3');
    expect((await post('/api/artifacts/latest/count', { artifacts: { key: { exists_: true } } })).text).toBe('1');
    await rows.deleteArtifact(first);
    expect((await post('/api/artifacts/count')).text).toBe('2');
    await db.dataSource.query('DELETE FROM artifact_collection');
    expect((await post('/api/artifacts/latest/count')).text).toBe('0');
    await rows.clear();
    expect((await post('/api/artifacts/count')).text).toBe('0');
  });
});

describe('input PostgreSQL cannot store', () => {
  it('matches nothing rather than failing (U+0000)', async () => {
    await rows.artifact({ created: '2024-01-01T00:00:01Z', key: 'k', type: 't' });
    expect(await post('/api/artifacts/count', '{"artifacts": {"key": {"any_": ["k\\u0000"], "like_": "\\u0000"}}}')).toEqual({ status: 200, text: '0' });
    expect(await post('/api/artifacts/count', '{"artifacts": {"type": {"not_any_": ["\\u0000"]}}}')).toEqual({ status: 200, text: '1' });
    expect(await get('/api/artifacts/k%00/latest')).toEqual({ status: 404, text: '{"detail":"Artifact not found."}' });
  });
});

describe('validation over HTTP', () => {
  it('answers the envelopes with application/json', async () => {
    const response = await fetch(`${base}/api/artifacts/latest/filter`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"limit": 201}',
    });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe('{"detail":"Invalid limit: must be less than or equal to 200."}');
  });
});
