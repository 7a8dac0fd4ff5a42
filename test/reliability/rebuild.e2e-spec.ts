import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { report } from './support/report';
import { Workload } from './support/workload';
import { Load, sleep, World } from './support/world';

// Issue #6, rebuild: `npm run rebuild` replays both topics from offset 0 into shadow
// tables while the live ingest keeps consuming and the query app keeps answering,
// catches up, and swaps the tables in atomically. The result equals the oracle, and
// a row planted in the live tables (which no event can produce) is gone.

const ROOT = join(__dirname, '..', '..');
const QUERY_BUILT = existsSync(join(ROOT, 'dist', 'apps', 'query', 'main.js'));

jest.setTimeout(240_000);

function runRebuild(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '-s', 'rebuild'], { cwd: ROOT, env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('reliability: rebuild from the topics with an atomic swap', () => {
  let world: World;
  let query: AppProcess | undefined;

  beforeAll(async () => {
    world = await World.create('rebuild');
  });

  afterAll(async () => {
    await query?.stop();
    await world?.close();
  });

  test('npm run rebuild under load: progress shown, queries keep answering, the result equals the oracle, a planted row is gone', async () => {
    const workload = new Workload(77);
    await world.send(workload.take(15_000));
    const ingest = await world.startIngest();
    await world.waitDrained();
    if (QUERY_BUILT) {
      query = spawnApp('query', { DATABASE_URL: world.infra.databaseUrl, QUERY_PORT: String(await freePort()) });
      await waitForStatus(query, '/api/ready', 200);
    }

    const planted = randomUUID();
    await world.infra.admin(
      `INSERT INTO artifact (id, created, updated, key, type, src_partition, src_offset) VALUES ($1, now(), now(), 'planted-by-hand', 'markdown', 0, 999999999)`,
      [planted],
    );
    await world.infra.admin(`INSERT INTO flow (id, updated, name) VALUES ($1, now(), 'planted flow')`, [planted]);

    // The query app is asked all along; every answer must be a 200.
    const statuses: Record<string, number> = {};
    let querying = true;
    const queries = (async () => {
      const bodies = [
        ['/api/artifacts/latest/filter', { limit: 5, sort: 'UPDATED_DESC' }],
        ['/api/artifacts/filter', { limit: 5, artifacts: { key: { like_: 'k-1' } } }],
        ['/api/artifacts/latest/count', {}],
      ] as const;
      for (let i = 0; querying && query; i++) {
        const [path, body] = bodies[i % bodies.length]!;
        const status = await fetch(query.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
          (r) => r.arrayBuffer().then(() => String(r.status)),
          (e: Error) => `error ${e.message}`,
        );
        statuses[status] = (statuses[status] ?? 0) + 1;
        await sleep(20);
      }
    })();

    // 20k events at 600/s while the replay runs: bounded, because the replay of a 2-core machine
    // shared with the live ingest and the queries runs at about 700/s, and an endless load would
    // leave it chasing the live checkpoints on a busier machine.
    const load = new Load(world, workload, 600, 20_000);
    const started = Date.now();
    const result = await runRebuild(world.ingestEnv());
    const seconds = (Date.now() - started) / 1000;
    querying = false;
    await queries;
    const produced = await load.stop();
    expect(result.stderr).toMatch(/rebuild: \d+ \/ \d+ messages replayed/);
    expect(result.stderr).toMatch(/rebuild: swapped/);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as { messages: number; swapMillis: number };

    await world.waitDrained();
    expect(ingest.child.exitCode).toBeNull();
    expect(await world.infra.admin('SELECT id FROM artifact WHERE id = $1 UNION ALL SELECT id FROM flow WHERE id = $1', [planted])).toEqual([]);
    const schemas = await world.infra.admin<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rebuild_%'");
    expect(schemas).toEqual([]);
    // The row-count triggers came along: the query side's exact counts still match the new tables.
    const counts = await world.infra.admin<{ table_name: string; counted: string; actual: string }>(
      `SELECT table_name, sum(n)::text AS counted,
         (CASE table_name WHEN 'artifact' THEN (SELECT count(*) FROM artifact) ELSE (SELECT count(*) FROM artifact_collection) END)::text AS actual
       FROM read_model_row_count GROUP BY table_name ORDER BY table_name`,
    );
    expect(counts.map((c) => c.table_name)).toEqual(['artifact', 'artifact_collection']);
    for (const c of counts) expect(c.counted).toBe(c.actual);
    const v = await world.verify();
    const progressLines = result.stderr.split('\n').filter((l) => l.includes('messages replayed')).length;
    report(
      'rebuild',
      { events: v.messages, produced, replayed: summary.messages, seconds: Math.round(seconds), swapMillis: summary.swapMillis, progressLines, queries: JSON.stringify(statuses), rows: v.rows, mismatches: v.mismatches },
      result.stderr.split('\n').filter((l) => l.startsWith('rebuild:')).slice(-4),
    );
    if (query) {
      expect(Object.keys(statuses)).toEqual(['200']);
      expect(statuses['200']).toBeGreaterThan(20);
    }
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);

    // The collection's copies of its run's flow, deployment, state type and tags and of its
    // flow's tags (migrations 1700000000080 and 120) are not in the oracle's tables: the replay
    // must have kept them, and the shadow tables their indexes; the run filters that read them
    // (ID_DESC latest pages) must answer as the runs say.
    const runIndexes = await world.infra.admin<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'artifact_collection' AND indexname ~ '^ix_artifact_collection__run_' ORDER BY indexname",
    );
    expect(runIndexes.map((i) => i.indexname)).toEqual([
      'ix_artifact_collection__run_deployment_id_id',
      'ix_artifact_collection__run_flow_id_id',
      'ix_artifact_collection__run_flow_tags',
      'ix_artifact_collection__run_state_type_id',
      'ix_artifact_collection__run_tags',
    ]);
    const staleCopies = await world.infra.admin(
      `SELECT c.key FROM artifact_collection c LEFT JOIN flow_run fr ON fr.id = c.flow_run_id LEFT JOIN flow f ON f.id = fr.flow_id
       WHERE (c.run_flow_id, c.run_deployment_id, c.run_state_type, c.run_tags, c.run_flow_tags)
         IS DISTINCT FROM (fr.flow_id, fr.deployment_id, fr.state_type, fr.tags, f.tags)`,
    );
    expect(staleCopies).toEqual([]);
    // And each version's copy of its run's deployment (migration 1700000000130).
    const staleVersionCopies = await world.infra.admin(
      'SELECT a.id FROM artifact a LEFT JOIN flow_run fr ON fr.id = a.flow_run_id WHERE a.run_deployment_id IS DISTINCT FROM fr.deployment_id',
    );
    expect(staleVersionCopies).toEqual([]);
    // With the index that pages a deployment's versions (migration 1700000000160), partial as migrated.
    const versionIndex = await world.infra.admin<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'artifact' AND indexname = 'ix_artifact__run_deployment_id_created_id'",
    );
    expect(versionIndex.map((i) => i.indexdef)).toEqual([expect.stringMatching(/\(run_deployment_id, created DESC, id DESC\) WHERE \(run_deployment_id IS NOT NULL\)$/)]);
    if (query) await expectRunFiltersAnswer(world, query.url);
  });
});

/**
 * ID_DESC latest pages with a deployment, flow, state or tag filter (the ones that read the run
 * copies), and CREATED_DESC pages of every version with a deployment filter, against the same
 * filters written over the runs themselves, for the values that own the most collection rows.
 */
async function expectRunFiltersAnswer(world: World, url: string): Promise<void> {
  // The value of a run column that owns the most collection rows whose run (and its flow or deployment) exists.
  const top = async (column: string, join = '') =>
    (
      await world.infra.admin<{ value: string }>(
        `SELECT fr.${column}::text AS value FROM artifact_collection c JOIN flow_run fr ON fr.id = c.flow_run_id ${join}
         WHERE fr.${column} IS NOT NULL GROUP BY fr.${column} ORDER BY count(*) DESC, fr.${column} LIMIT 1`,
      )
    )[0]!.value;
  const deployment = await top('deployment_id', 'JOIN deployment d ON d.id = fr.deployment_id');
  const flow = await top('flow_id', 'JOIN flow f ON f.id = fr.flow_id');
  const state = await top('state_type');
  // The tag that most collection rows' runs (or their runs' flows) carry.
  const topTag = async (table: string, join: string) =>
    (
      await world.infra.admin<{ value: string }>(
        `SELECT tag AS value FROM artifact_collection c JOIN flow_run fr ON fr.id = c.flow_run_id ${join}, unnest(${table}.tags) tag
         GROUP BY tag ORDER BY count(*) DESC, tag LIMIT 1`,
      )
    )[0]!.value;
  const runTag = await topTag('fr', '');
  const flowTag = await topTag('f', 'JOIN flow f ON f.id = fr.flow_id');
  const cases = [
    [{ deployments: { id: { any_: [deployment] } } }, 'JOIN deployment d ON d.id = fr.deployment_id WHERE d.id = $1::uuid', deployment],
    [{ flow_runs: { deployment_id: { any_: [deployment] } } }, 'WHERE fr.deployment_id = $1::uuid', deployment],
    [{ flows: { id: { any_: [flow] } } }, 'JOIN flow f ON f.id = fr.flow_id WHERE f.id = $1::uuid', flow],
    [{ flow_runs: { state: { type: { any_: [state] } } } }, 'WHERE fr.state_type = $1', state],
    [{ flow_runs: { tags: { all_: [runTag] } } }, 'WHERE fr.tags @> ARRAY[$1]::text[]', runTag],
    [{ flow_runs: { operator: 'or_', tags: { all_: [runTag] }, state: { type: { any_: [state] } } } }, 'WHERE (fr.tags @> ARRAY[$1]::text[] OR fr.state_type = $3)', runTag, state],
    [{ flows: { tags: { all_: [flowTag] } } }, 'JOIN flow f ON f.id = fr.flow_id WHERE f.tags @> ARRAY[$1]::text[]', flowTag],
  ] as const;
  for (const [filter, runs, value, also] of cases as readonly (readonly [object, string, string, string?])[]) {
    for (const offset of [0, 10]) {
      const expected = await world.infra.admin<{ id: string }>(
        `SELECT c.id FROM artifact_collection c WHERE EXISTS (SELECT 1 FROM flow_run fr ${runs} AND fr.id = c.flow_run_id) ORDER BY c.id DESC LIMIT 10 OFFSET $2`,
        also === undefined ? [value, offset] : [value, offset, also],
      );
      if (offset === 0) expect(expected.length).toBeGreaterThan(0);
      const response = await fetch(`${url}/api/artifacts/latest/filter`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...filter, sort: 'ID_DESC', limit: 10, offset }),
      });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { id: string }[];
      expect({ filter, offset, ids: page.map((r) => r.id) }).toEqual({ filter, offset, ids: expected.map((r) => r.id) });
    }
  }
  // Pages and the count of every version of the deployment, said on the versions' copy alone (migrations 130 and 160),
  // against the same read over the runs, which does not depend on how the filter names the deployment.
  const ofDeployment = 'EXISTS (SELECT 1 FROM flow_run fr JOIN deployment d ON d.id = fr.deployment_id WHERE d.id = $1::uuid AND fr.id = a.flow_run_id)';
  const expectedPages = new Map<number, string[]>();
  for (const offset of [0, 10]) {
    const rows = await world.infra.admin<{ id: string }>(`SELECT a.id FROM artifact a WHERE ${ofDeployment} ORDER BY a.created DESC, a.id DESC LIMIT 10 OFFSET $2`, [deployment, offset]);
    if (offset === 0) expect(rows.length).toBeGreaterThan(0);
    expectedPages.set(offset, rows.map((r) => r.id));
  }
  const { n } = (await world.infra.admin<{ n: number }>(`SELECT count(*)::int AS n FROM artifact a WHERE ${ofDeployment}`, [deployment]))[0]!;
  for (const filter of [{ deployments: { id: { any_: [deployment] } } }, { flow_runs: { deployment_id: { any_: [deployment] } } }]) {
    for (const [offset, ids] of expectedPages) {
      const response = await fetch(`${url}/api/artifacts/filter`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...filter, sort: 'CREATED_DESC', limit: 10, offset }),
      });
      expect(response.status).toBe(200);
      expect({ filter, offset, ids: ((await response.json()) as { id: string }[]).map((r) => r.id) }).toEqual({ filter, offset, ids });
    }
    const counted = await fetch(`${url}/api/artifacts/count`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(filter) });
    expect({ filter, count: await counted.json() }).toEqual({ filter, count: n });
  }
}
