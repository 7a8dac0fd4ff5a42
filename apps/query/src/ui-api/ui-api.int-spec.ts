import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino from 'pino';
import { createTestDatabase, TestDatabase } from '../../../../test/support/database';
import { ReadModelFixtures } from '../../test/read-model-fixtures';
import { decodeBody } from '../http/request-body';
import { startQueryApp } from '../query.module';
import { latestCount, latestPage } from './ui-read-model';
import { parseUiListRequest } from './ui-requests';

// The web page's routes (/ui-api) against real PostgreSQL, over HTTP.

let db: TestDatabase;
let app: NestFastifyApplication;
let base: string;
let rows: ReadModelFixtures;
let flowRun: string;
let taskRun: string;
let keyless: string;
let oldReport: string;
let newReport: string;

beforeAll(async () => {
  db = await createTestDatabase('query_ui_api');
  rows = new ReadModelFixtures(db.dataSource);
  ({ app, url: base } = await startQueryApp({ databaseUrl: db.url, port: 0, defaultLimit: 50, logLevel: 'silent' }, pino({ level: 'silent' })));
  const flow = await rows.flow({ name: 'etl-nightly' });
  const other = await rows.flow({ name: 'ml-training' });
  const deployment = await rows.deployment({ flow_id: flow, name: 'etl-prod' });
  flowRun = await rows.flowRun({ flow_id: flow, deployment_id: deployment, name: 'brave-otter-1', tags: ['demo', 'backfill'], state_type: 'FAILED', state_name: 'Failed' });
  const otherRun = await rows.flowRun({ flow_id: other, name: 'quiet-lynx-2', tags: ['demo'], state_type: 'COMPLETED', state_name: 'Completed' });
  taskRun = await rows.taskRun({ flow_run_id: flowRun, name: 'publish-report-1', state_type: 'FAILED', state_name: 'Failed' });
  oldReport = await rows.artifact({ created: '2026-11-01T08:00:00Z', key: 'report', type: 'markdown', data: '"v1"', flow_run_id: otherRun });
  newReport = await rows.artifact({ created: '2026-11-02T08:00:00Z', key: 'report', type: 'markdown', data: '"v2"', flow_run_id: flowRun, task_run_id: taskRun });
  await rows.artifact({ created: '2026-11-03T08:00:00Z', key: 'scores', type: 'table', data: '[]', flow_run_id: otherRun });
  keyless = await rows.artifact({ created: '2026-11-04T08:00:00Z', key: null, type: 'result', data: '{"ok":true}', flow_run_id: flowRun });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers are read member by member in the assertions
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}
const keysOf = async (body: unknown) => {
  const { status, json } = await call('POST', '/ui-api/artifacts/latest', body);
  expect(status).toBe(200);
  return { count: json.count, keys: (json.rows as { artifact: { key: string } }[]).map((r) => r.artifact.key) };
};

describe('POST /ui-api/artifacts/latest', () => {
  it('answers a page with the run, task run, flow and deployment names, and the count', async () => {
    const { status, json } = await call('POST', '/ui-api/artifacts/latest', { sort: 'KEY_ASC', limit: 1 });
    expect(status).toBe(200);
    expect(json).toMatchObject({ count: 2, offset: 0, limit: 1 });
    expect(json.rows).toHaveLength(1);
    const [row] = json.rows;
    expect(row.artifact).toMatchObject({ key: 'report', latest_id: newReport, data: 'v2' });
    expect(row.flow_run).toMatchObject({ id: flowRun, name: 'brave-otter-1', state_type: 'FAILED', state_name: 'Failed', tags: ['demo', 'backfill'], flow: { name: 'etl-nightly' }, deployment: { name: 'etl-prod' } });
    expect(row.task_run).toMatchObject({ id: taskRun, name: 'publish-report-1', state_type: 'FAILED' });
    expect(row.is_latest).toBe(true);
  });

  it("filters in Prefect's filter language, combined with and_, plus updated_after", async () => {
    expect(await keysOf({ sort: 'KEY_ASC' })).toEqual({ count: 2, keys: ['report', 'scores'] });
    expect(await keysOf({ artifacts: { operator: 'and_', key: { like_: 'sco' } } })).toEqual({ count: 1, keys: ['scores'] });
    expect(await keysOf({ artifacts: { type: { any_: ['markdown'] } } })).toEqual({ count: 1, keys: ['report'] });
    expect(await keysOf({ flows: { name: { like_: 'ml-' } } })).toEqual({ count: 1, keys: ['scores'] });
    expect(await keysOf({ deployments: { name: { like_: 'etl-prod' } } })).toEqual({ count: 1, keys: ['report'] });
    expect(await keysOf({ flow_runs: { tags: { all_: ['backfill'] } } })).toEqual({ count: 1, keys: ['report'] });
    expect(await keysOf({ flow_runs: { state: { type: { any_: ['COMPLETED'] } } } })).toEqual({ count: 1, keys: ['scores'] });
    expect(await keysOf({ updated_after: '2026-11-03T00:00:00Z' })).toEqual({ count: 1, keys: ['scores'] });
    expect(await keysOf({ artifacts: { operator: 'and_', key: { like_: 'rep' }, type: { any_: ['table'] } } })).toEqual({ count: 0, keys: [] });
    // A page past the end: an empty page, the true count.
    expect(await keysOf({ offset: 40, limit: 10 })).toEqual({ count: 2, keys: [] });
  });

  it('plans a page and count with a deployment, flow or state filter for each execution, as the API routes do', () => {
    const statements = (body: object) => {
      const request = parseUiListRequest(decodeBody('application/json', Buffer.from(JSON.stringify(body))), 50);
      return [latestPage(request).prepare, latestCount(request).prepare];
    };
    expect(statements({ flow_runs: { state: { type: { any_: ['FAILED'] } } } })).toEqual([false, false]);
    expect(statements({ artifacts: { type: { any_: ['markdown'] } } })).toEqual([undefined, undefined]);
  });

  it("refuses bad bodies as Prefect's routes do: 422, never 500", async () => {
    const bad = await call('POST', '/ui-api/artifacts/latest', { updated_after: 'yesterday', sort: 'NEWEST' });
    expect(bad.status).toBe(422);
    expect(bad.json.exception_message).toBe('Invalid request received.');
    expect(bad.json.exception_detail.map((e: { loc: string[] }) => e.loc)).toEqual([['body', 'sort'], ['body', 'updated_after']]);
    expect(await call('POST', '/ui-api/artifacts/latest', { limit: 51 })).toEqual({ status: 422, json: { detail: 'Invalid limit: must be less than or equal to 50.' } });
    expect((await call('POST', '/ui-api/artifacts/latest', '[1]')).status).toBe(422);
    expect((await call('POST', '/ui-api/artifacts/latest', '{"a":')).status).toBe(422);
    expect((await call('GET', '/ui-api/artifacts/latest')).status).toBe(405);
  });
});

describe('GET /ui-api/artifacts/{id}', () => {
  it("answers the version with names and its key's timeline, newest first", async () => {
    const { status, json } = await call('GET', `/ui-api/artifacts/${oldReport.toUpperCase()}`);
    expect(status).toBe(200);
    expect(json.version.artifact).toMatchObject({ id: oldReport, key: 'report', data: 'v1' });
    expect(json.version.flow_run.name).toBe('quiet-lynx-2');
    expect(json.version.is_latest).toBe(false);
    expect(json.version_count).toBe(2);
    expect(json.versions.map((v: { id: string; is_latest: boolean }) => [v.id, v.is_latest])).toEqual([[newReport, true], [oldReport, false]]);
  });

  it('answers a keyless version with an empty timeline', async () => {
    const { json } = await call('GET', `/ui-api/artifacts/${keyless}`);
    expect(json).toMatchObject({ version: { artifact: { id: keyless, key: null }, is_latest: false, task_run: null }, version_count: 0, versions: [] });
  });

  it('is 404 in Prefect\'s shape for an unknown or malformed id', async () => {
    expect(await call('GET', '/ui-api/artifacts/00000000-0000-4000-8000-000000000000')).toEqual({ status: 404, json: { detail: 'Artifact not found.' } });
    expect(await call('GET', '/ui-api/artifacts/not-a-uuid')).toEqual({ status: 404, json: { detail: 'Not Found' } });
  });
});

describe('GET /ui-api/runs/{id}', () => {
  it('answers a flow run with its names and every artifact created in it, keyless ones included', async () => {
    const { status, json } = await call('GET', `/ui-api/runs/${flowRun}`);
    expect(status).toBe(200);
    expect(json.kind).toBe('flow_run');
    expect(json.run).toMatchObject({ id: flowRun, name: 'brave-otter-1', state_type: 'FAILED', flow: { name: 'etl-nightly' }, deployment: { name: 'etl-prod' } });
    expect(json.artifact_count).toBe(2);
    expect(json.artifacts.map((a: { artifact: { id: string; key: string | null }; is_latest: boolean }) => [a.artifact.id, a.artifact.key, a.is_latest])).toEqual([
      [keyless, null, false],
      [newReport, 'report', true],
    ]);
  });

  it('answers a task run with its flow run', async () => {
    const { json } = await call('GET', `/ui-api/runs/${taskRun}`);
    expect(json.kind).toBe('task_run');
    expect(json.run).toMatchObject({ id: taskRun, name: 'publish-report-1', flow_run: { id: flowRun, name: 'brave-otter-1' } });
    expect(json.artifacts.map((a: { artifact: { id: string } }) => a.artifact.id)).toEqual([newReport]);
  });

  it('answers artifacts of a run the read model has no row for, and 404 when nothing has the id', async () => {
    const ghost = '11111111-2222-4333-8444-555555555555';
    const lonely = await rows.artifact({ created: '2026-11-05T08:00:00Z', key: null, type: 'result', data: '1', flow_run_id: ghost });
    const { json } = await call('GET', `/ui-api/runs/${ghost}`);
    expect(json).toMatchObject({ kind: null, run: null, artifact_count: 1, artifacts: [{ artifact: { id: lonely }, flow_run: null }] });
    expect(await call('GET', '/ui-api/runs/00000000-0000-4000-8000-000000000000')).toEqual({ status: 404, json: { detail: 'Run not found.' } });
  });
});
