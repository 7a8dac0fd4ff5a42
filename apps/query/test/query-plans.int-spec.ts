import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { countStatement, listStatement } from '@app/filters';
import { parseCountRequest, parseListRequest } from '../src/artifacts/artifact-requests';
import { decodeBody } from '../src/http/request-body';
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
  for (const statement of volumeSql({ versions: VERSIONS })) await client.query(statement);
}, 600_000);

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

async function plan(route: 'latest/filter' | 'latest/count' | 'filter' | 'count', body: object): Promise<PlanNode[]> {
  const table = route.startsWith('latest') ? 'artifact_collection' : 'artifact';
  const decoded = decodeBody('application/json', Buffer.from(JSON.stringify(body)));
  const statement = route.endsWith('filter')
    ? listStatement(table, parseListRequest(table, decoded, 200))
    : countStatement(table, parseCountRequest(table, decoded));
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values);
  return nodes((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
}

const seqScans = (plan: PlanNode[]) =>
  plan.filter((n) => n['Node Type'] === 'Seq Scan' && ['artifact', 'artifact_collection'].includes(n['Relation Name'] ?? '')).map((n) => n['Relation Name']);

const key = (n: number) => `key-${String(n).padStart(6, '0')}`;
const run = (n: number) => `00000000-0000-4000-8300-${n.toString(16).padStart(12, '0')}`;
const task = (n: number) => `00000000-0000-4000-8400-${n.toString(16).padStart(12, '0')}`;
const exists = { key: { exists_: true } };

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

  it('answers the unfiltered counts from the row-count table', async () => {
    const count = await plan('latest/count', { artifacts: exists });
    expect(count.map((n) => n['Relation Name']).filter(Boolean)).toEqual(['read_model_row_count']);
  });
});
