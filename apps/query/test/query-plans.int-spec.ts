import { Client, escapeLiteral } from 'pg';
import type { SqlStatement } from '@app/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { countStatement, listStatement, TAG_STATISTICS, TagStatistics, tagStatisticsOf } from '@app/filters';
import { parseCountRequest, parseListRequest } from '../src/artifacts/artifact-requests';
import { decodeBody } from '../src/http/request-body';
import { ArtifactReadModel } from '../src/artifacts/artifact-read-model';
import { QueryDatabase } from '../src/query-database';
import { explain, nodes, PlanNode } from './plans';
import { volumeSql } from './seed-volume';

// The statements the app sends for the UI's list-and-count pair and the peer
// figures' filters use indexes, not sequential scans of artifact or
// artifact_collection. CI runs it on 100k versions (10k keys, ANALYZEd); the
// 1M figures are in apps/query/README.md (VOLUME=1000000 to rerun).

const VERSIONS = Number(process.env.VOLUME ?? 100_000);
let db: TestDatabase;
let client: Client;

beforeAll(async () => {
  db = await createTestDatabase('query_plans');
  client = new Client({ connectionString: db.url });
  await client.connect();
  // Five collection rows per flow run, as in the bench's 1M data set (20k runs, 100k keys).
  for (const statement of volumeSql({ versions: VERSIONS, flowRuns: VERSIONS / 50 })) await (typeof statement === 'string' ? client.query(statement) : client.query(statement.text, statement.values as unknown[]));
}, 600_000);

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

type Route = 'latest/filter' | 'latest/count' | 'filter' | 'count';

function statementOf(route: Route, body: object): SqlStatement {
  const table = route.startsWith('latest') ? 'artifact_collection' : 'artifact';
  const decoded = decodeBody('application/json', Buffer.from(JSON.stringify(body)));
  return route.endsWith('filter') ? listStatement(table, parseListRequest(table, decoded, 200)) : countStatement(table, parseCountRequest(table, decoded));
}

async function plan(route: Route, body: object): Promise<PlanNode[]> {
  return explain(client, statementOf(route, body));
}

/** A bound value as an SQL literal of unknown type (the statement's casts type it); arrays in PostgreSQL's '{...}' form. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) return escapeLiteral(`{${value.map((v) => (v === null ? 'NULL' : `"${String(v).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`);
  return escapeLiteral(String(value));
}

/**
 * The plan PostgreSQL runs once the app's prepared statement has been executed
 * often: from the sixth execution it may switch to a generic plan (issue #18).
 * PREPARE/EXECUTE with the statement's values as literals, as the app's named
 * statements are planned.
 */
async function planAfterRepetition(route: Route, body: object, executions = 8): Promise<PlanNode[]> {
  const statement = statementOf(route, body);
  // A statement the app plans for each execution (SqlStatement.prepare) is never repeated as one.
  if (statement.prepare === false) return plan(route, body);
  const name = `repeated_${Math.random().toString(36).slice(2, 10)}`;
  const args = statement.values.map(literal).join(', ');
  await client.query(`PREPARE ${name} AS ${statement.text}`);
  try {
    for (let i = 0; i < executions; i++) await client.query(`EXECUTE ${name}(${args})`);
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) EXECUTE ${name}(${args})`);
    return nodes((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
  } finally {
    await client.query(`DEALLOCATE ${name}`);
  }
}

/** Whether `node` lies under an InitPlan of `root` (the page's id picking). */
function isInitPlanChild(root: PlanNode, node: PlanNode): boolean {
  return (root.Plans ?? []).some((child) => (child['Parent Relationship'] === 'InitPlan' ? nodes(child).includes(node) : isInitPlanChild(child, node)));
}

const seqScans = (plan: PlanNode[]) =>
  plan.filter((n) => n['Node Type'] === 'Seq Scan' && ['artifact', 'artifact_collection'].includes(n['Relation Name'] ?? '')).map((n) => n['Relation Name']);

const key = (n: number) => `key-${String(n).padStart(6, '0')}`;
const run = (n: number) => `00000000-0000-4000-8300-${n.toString(16).padStart(12, '0')}`;
const task = (n: number) => `00000000-0000-4000-8400-${n.toString(16).padStart(12, '0')}`;
const exists = { key: { exists_: true } };
const deployment = (n: number) => `00000000-0000-4000-8200-${n.toString(16).padStart(12, '0')}`;
const flow = (n: number) => `00000000-0000-4000-8100-${n.toString(16).padStart(12, '0')}`;

describe(`query plans on ${VERSIONS} artifact versions`, () => {
  it.each([
    ['latest/filter', { sort: 'ID_DESC', limit: 200, artifacts: exists }],
    ['latest/count', { artifacts: exists }],
    ['latest/filter', { sort: 'ID_DESC', limit: 200, artifacts: { ...exists, type: { any_: ['markdown'] } } }],
    ['latest/count', { artifacts: { ...exists, type: { any_: ['markdown'] } } }],
    ['latest/filter', { artifacts: { key: { any_: [key(42)] } } }],
    ['latest/filter', { limit: 50, artifacts: { key: { like_: '00012' } } }],
    ['latest/filter', { artifacts: { flow_run_id: { any_: [run(7)] } } }],
    ['latest/filter', { artifacts: { task_run_id: { any_: [task(7)] } } }],
    ['latest/filter', { artifacts: { type: { any_: ['markdown'] } } }],
    ['latest/filter', { sort: 'CREATED_DESC', offset: Math.floor(VERSIONS / 100), limit: 200 }],
    ['latest/filter', { flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }],
    ['filter', { sort: 'CREATED_DESC', artifacts: { key: { any_: [key(42)] } } }],
    // Keyless versions last ascending, first descending (PostgreSQL's NULL order): one index, read either way.
    ['filter', { sort: 'KEY_ASC', limit: 200 }],
    ['filter', { sort: 'KEY_DESC', limit: 200 }],
    ['filter', { sort: 'KEY_DESC', offset: Math.floor(VERSIONS / 100), limit: 200 }],
    ['filter', { artifacts: { key: { like_: '00012' } } }],
    ['filter', { artifacts: { flow_run_id: { any_: [run(7)] } } }],
    ['filter', { artifacts: { task_run_id: { any_: [task(7)] } } }],
    ['filter', { artifacts: { type: { any_: ['markdown'] } } }],
    ['count', {}],
    ['count', { artifacts: { flow_run_id: { any_: [run(7)] } } }],
  ] as const)('%s %j scans no artifact table sequentially', async (route, body) => {
    expect(seqScans(await plan(route, body))).toEqual([]);
  });

  // Executed again and again, as the app's named statements are: PostgreSQL may
  // switch to a generic plan from the sixth execution (issue #18).
  it.each([
    ['latest/filter', { limit: 200, flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }],
    ['latest/filter', { sort: 'CREATED_DESC', offset: Math.floor(VERSIONS / 100), limit: 200 }],
    ['latest/filter', { artifacts: { key: { any_: [key(42)] } } }],
  ] as const)('%s %j executed as a prepared statement again and again scans no artifact table sequentially', async (route, body) => {
    expect(seqScans(await planAfterRepetition(route, body))).toEqual([]);
  });

  // Deployment 1 owns 1/20 of the runs. The page's ids are picked first (from the
  // (flow_run_id, id) index alone when the collection is all-visible) and only
  // the page's rows are read and turned into JSON, by primary key, not the
  // thousands of rows of the deployment's runs.
  it.each([
    [{ limit: 200, deployments: { id: { any_: [deployment(1)] } } }],
    [{ limit: 200, deployments: { id: { any_: [deployment(1), deployment(2)] } } }],
    [{ limit: 200, flows: { id: { any_: [flow(1)] } } }],
  ])('latest/filter %j, executed again and again, reads the page\'s collection rows by primary key only', async (body) => {
    const plan = await planAfterRepetition('latest/filter', body);
    const top = plan[0]!;
    const collection = (n: PlanNode) => n['Relation Name'] === 'artifact_collection' || (n['Index Name'] ?? '').startsWith('artifact_collection');
    const pageRead = nodes(top).filter((n) => collection(n) && !isInitPlanChild(top, n)).map((n) => n['Index Name'] ?? n['Node Type']);
    expect(pageRead).toContain('artifact_collection_pkey');
    expect(pageRead.filter((name) => name !== 'artifact_collection_pkey' && name !== 'Bitmap Heap Scan')).toEqual([]);
  });

  // A deployment, flow or state filter that asks nothing else of the run reads the
  // collection's copies of its run's columns (migration 080), not a flow run, whatever
  // share of the runs the value owns; counted, it reads the tally of those copies
  // (migration 090), not the rows it counts; so does the versions' count by run state.
  const readsRuns = (plan: PlanNode[]) => plan.filter((n) => n['Relation Name'] === 'flow_run' || (n['Index Name'] ?? '').includes('flow_run'));
  const readsArtifacts = (plan: PlanNode[]) => plan.filter((n) => /^artifact/.test(n['Relation Name'] ?? n['Index Name'] ?? ''));
  it.each([
    ['latest/count', { deployments: { id: { any_: [deployment(1)] } } }],
    ['latest/count', { flows: { id: { any_: [flow(1)] } } }],
    ['latest/count', { flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }],
    ['latest/count', { artifacts: { ...exists, type: { any_: ['markdown'] } } }],
    ['count', { artifacts: { type: { any_: ['markdown', 'table'] } } }],
    // The versions by their run's state (migration 100).
    ['count', { flow_runs: { state: { type: { any_: ['FAILED'] } } } }],
  ] as const)('%s %j, executed again and again, reads the tally and no artifact nor flow run', async (route, body) => {
    const counted = await planAfterRepetition(route, body);
    expect(counted.map((n) => n['Index Name'])).toContain('read_model_tally_pkey');
    expect([...readsArtifacts(counted), ...readsRuns(counted)]).toEqual([]);
  });

  it.each([
    ['latest/filter', { sort: 'CREATED_DESC', offset: 100, limit: 200, deployments: { id: { any_: [deployment(1)] } } }],
    ['latest/filter', { sort: 'UPDATED_DESC', limit: 200, flow_runs: { deployment_id: { any_: [deployment(1)] }, state: { type: { any_: ['FAILED'] } } } }],
  ] as const)('%s %j reads no flow run', async (route, body) => {
    expect(readsRuns(await planAfterRepetition(route, body))).toEqual([]);
  });

  // A CREATED_DESC page at an offset whose run filter is said on the copies picks its ids
  // from the (created, id) index alone, which carries the copies (migration 140).
  it.each([
    [{ sort: 'CREATED_DESC', offset: 100, limit: 200, flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }],
    [{ sort: 'CREATED_DESC', offset: 100, limit: 200, flow_runs: { deployment_id: { any_: [deployment(1), deployment(2), deployment(3), deployment(4)] } } }],
  ])('latest/filter %j picks its ids index-only', async (body) => {
    const plan = await planAfterRepetition('latest/filter', body);
    const top = plan[0]!;
    const picking = nodes(top).filter((n) => isInitPlanChild(top, n) && n['Relation Name'] === 'artifact_collection');
    expect(picking.map((n) => [n['Node Type'], n['Index Name']])).toEqual([['Index Only Scan', 'ix_artifact_collection__created_id']]);
  });

  // A versions page of a deployment reads one range of the index led by the versions' copy of
  // their run's deployment (migrations 130 and 160), in page order, and no flow run: the page's
  // 200 entries, not the versions walked in created order until 200 of them match.
  it.each([
    [{ sort: 'CREATED_DESC', limit: 200, deployments: { id: { any_: [deployment(1)] } } }],
    [{ sort: 'CREATED_DESC', limit: 200, flow_runs: { deployment_id: { any_: [deployment(2)] } } }],
    [{ sort: 'CREATED_DESC', offset: 100, limit: 200, deployments: { id: { any_: [deployment(1)] } } }],
  ])("filter %j reads the versions' deployment index and no flow run", async (body) => {
    const plan = await planAfterRepetition('filter', body);
    // At an offset the page's ids are picked from that index, then its rows read by primary key.
    const read = plan.filter((n) => n['Relation Name'] === 'artifact' || n['Index Name']?.startsWith('ix_artifact_')).map((n) => n['Index Name'] ?? n['Node Type']);
    expect(read).toContain('ix_artifact__run_deployment_id_created_id');
    expect(read.filter((name) => !['ix_artifact__run_deployment_id_created_id', 'artifact_pkey', 'Bitmap Heap Scan'].includes(name))).toEqual([]);
    expect(readsRuns(plan)).toEqual([]);
  });

  // A flow tag on a share of the collection rows whose page is read fastest from the copies'
  // GIN index (its matches, share * rows, fewer than the 200 / share rows a walk in id order
  // reads), where PostgreSQL still prices that walk lower: about 12% at 10k keys, 4% at 100k
  // (each of the 100 flows owns 1%). Given the copies' statistics, as the app reads them, the
  // page is read from the index (issue #18).
  describe('a page of a rare flow tag', () => {
    const flows = Math.round(85 * Math.sqrt(200 / (VERSIONS / 10)));
    const body = { limit: 200, flows: { tags: { all_: ['rare'] } } };
    const statement = (tagStatistics?: TagStatistics) =>
      listStatement('artifact_collection', { ...parseListRequest('artifact_collection', decodeBody('application/json', Buffer.from(JSON.stringify(body))), 200), tagStatistics });
    let statistics: TagStatistics;

    beforeAll(async () => {
      await client.query(`UPDATE flow SET tags = tags || '{rare}'::text[] WHERE id = ANY($1::uuid[])`, [Array.from({ length: flows }, (_, i) => flow(i + 1))]);
      await client.query('UPDATE artifact_collection c SET run_flow_tags = fl.tags FROM flow fl WHERE fl.id = c.run_flow_id AND c.run_flow_tags IS DISTINCT FROM fl.tags');
      await client.query('ANALYZE artifact_collection');
      statistics = tagStatisticsOf((await client.query<string[]>({ text: TAG_STATISTICS.text, values: [], rowMode: 'array' })).rows);
    });

    it("reads the tag's share from PostgreSQL's statistics", async () => {
      const { rows } = await client.query<{ rows: number; rare: number; team: number }>(
        `SELECT count(*)::int AS rows, (count(*) FILTER (WHERE run_flow_tags @> '{rare}'))::int AS rare, (count(*) FILTER (WHERE run_flow_tags @> '{team-1}'))::int AS team FROM artifact_collection`,
      );
      expect(statistics.rows).toBe(rows[0]!.rows);
      expect(statistics.copies.get('run_flow_tags')?.get('rare')).toBeCloseTo(rows[0]!.rare / rows[0]!.rows, 2);
      expect(statistics.copies.get('run_flow_tags')?.get('team-1')).toBeCloseTo(rows[0]!.team / rows[0]!.rows, 2);
    });

    const walks = (plan: PlanNode[]) => plan.some((n) => n['Index Name'] === 'artifact_collection_pkey');
    const readsGin = (plan: PlanNode[]) => plan.some((n) => n['Node Type'] === 'Bitmap Index Scan' && n['Index Name'] === 'ix_artifact_collection__run_flow_tags');

    it('is walked in id order by PostgreSQL alone, read from the GIN index with the statistics', async () => {
      const alone = await explain(client, statement());
      expect([walks(alone), readsGin(alone)]).toEqual([true, false]);
      const informed = await explain(client, statement(statistics));
      expect([walks(informed), readsGin(informed)]).toEqual([false, true]);
    });

    const rows = async (s: SqlStatement) => (await client.query<string[]>({ text: s.text, values: s.values as unknown[], rowMode: 'array' })).rows.map((r) => r[0]);

    it('answers the same rows either way', async () => {
      const walked = await rows(statement());
      expect(walked).toHaveLength(200);
      expect(await rows(statement(statistics))).toEqual(walked);
    });

    it('is read from the index by the app once it has read the statistics', async () => {
      const qdb = await QueryDatabase.open(db.url, 2);
      const sent: string[] = [];
      const texts = qdb.texts.bind(qdb);
      qdb.texts = (s: SqlStatement) => (sent.push(s.text), texts(s));
      try {
        const readModel = new ArtifactReadModel(qdb);
        const request = parseListRequest('artifact_collection', decodeBody('application/json', Buffer.from(JSON.stringify(body))), 200);
        const expected = `[${(await rows(statement())).join(',')}]`;
        // The first page is planned by PostgreSQL alone; the statistics are read beside it.
        expect(await readModel.list('artifact_collection', request)).toBe(expected);
        for (let i = 0; i < 100 && !sent.at(-1)!.includes('OFFSET 0) t'); i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          expect(await readModel.list('artifact_collection', request)).toBe(expected);
        }
        expect(sent[0]).not.toContain('OFFSET 0) t');
        expect(sent.at(-1)).toBe(statement(statistics).text);
      } finally {
        await qdb.close();
      }
    });
  });

  it('answers the unfiltered counts from the row-count table', async () => {
    const count = await plan('latest/count', { artifacts: exists });
    expect(count.map((n) => n['Relation Name']).filter(Boolean)).toEqual(['read_model_row_count']);
  });
});
