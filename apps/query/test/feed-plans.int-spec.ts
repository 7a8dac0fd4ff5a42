import { Client, escapeLiteral } from 'pg';
import { liveMatchesStatement, liveRowsStatement } from '@app/filters';
import type { SqlStatement } from '@app/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { volumeSql } from './seed-volume';

// The subscriptions' feed reads the changed keys' rows with statements the query app
// prepares. A new read model starts empty: the first feed steps run while the table is
// small, and PostgreSQL may settle on a generic plan then and keep it as the table grows.
// Whatever that plan, reading N keys must not test every row against the whole key list
// (a `key = ANY($1)` filter on a scan: rows x keys, seconds a step at 1,000 events/s).

let db: TestDatabase;
let client: Client;

beforeAll(async () => {
  db = await createTestDatabase('feed_plans');
  client = new Client({ connectionString: db.url });
  await client.connect();
}, 120_000);

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];
const keyList = (keys: string[]) => escapeLiteral(`{${keys.map((k) => `"${k}"`).join(',')}}`);
const grown = (count: number) => Array.from({ length: count }, (_, i) => `grown-${String(i * 7).padStart(6, '0')}`);

test.each([
  ['liveRowsStatement', (k: string[]) => liveRowsStatement(k)],
  ['liveMatchesStatement', (k: string[]) => liveMatchesStatement([{ filters: { artifacts: { type: { any_: ['table'] } } } as never }], k)],
])('%s: planned while the table is small, it reads 3,000 keys of 20,000 rows without testing each row against the key list', async (_name, statementOf) => {
  const name = `feed_${_name}`;
  const statement: SqlStatement = statementOf(['x']);
  const args = (k: string[]) => statement.values.map((v) => (Array.isArray(v) ? keyList(k) : escapeLiteral(String(v)))).join(', ');
  await client.query('TRUNCATE artifact_collection, artifact, task_run, flow_run, deployment, flow CASCADE');
  // A new read model's first seconds: ten keys, analysed (autovacuum does it early).
  for (const seed of volumeSql({ versions: 100, flowRuns: 5 })) await (typeof seed === 'string' ? client.query(seed) : client.query(seed.text, seed.values as unknown[]));
  await client.query(`PREPARE ${name} AS ${statement.text}`);
  try {
    // The feed's first steps, a few changed keys each: the plan PostgreSQL keeps is made now.
    const some = (await client.query<{ key: string }>('SELECT key FROM artifact_collection LIMIT 5')).rows.map((r) => r.key);
    for (let i = 0; i < 8; i++) await client.query(`EXECUTE ${name}(${args(some)})`);
    // The table grows two-thousandfold (not analysed yet), and a step changes 3,000 keys.
    await client.query(`INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id)
      SELECT gen_random_uuid(), c.created, c.updated, 'grown-' || lpad((n * 10 + r)::text, 6, '0'), c.latest_id, c.type, c.description, c.data, c.metadata_, c.flow_run_id, c.task_run_id
      FROM (SELECT c.*, row_number() OVER (ORDER BY key) - 1 AS r FROM artifact_collection c) c CROSS JOIN generate_series(0, 1999) n`);
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) EXECUTE ${name}(${args(grown(3_000))})`);
    const plan = nodes((rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
    const listFilters = plan.filter((n) => n['Relation Name'] === 'artifact_collection' && /ANY/.test(n.Filter ?? '')).map((n) => `${n['Node Type']}: ${n.Filter?.slice(0, 40)}`);
    expect(listFilters).toEqual([]);
    const { rowCount } = await client.query(`EXECUTE ${name}(${args(grown(3_000))})`);
    const present = await client.query('SELECT 1 FROM artifact_collection WHERE key = ANY($1::text[])', [grown(3_000)]);
    expect(rowCount).toBe(present.rowCount);
    expect(rowCount).toBeGreaterThan(2_000);
  } finally {
    await client.query(`DEALLOCATE ${name}`);
  }
}, 300_000);
