import { Client } from 'pg';
import { liveMatchesStatement, liveRowsStatement } from '@app/filters';
import type { SqlStatement } from '@app/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { explain, PlanNode } from './plans';
import { volumeSql } from './seed-volume';

// The subscriptions' feed reads the changed keys' rows once per step. A new read model
// starts empty: if the query app prepared these reads, PostgreSQL would settle on a generic
// plan during the first steps, while the collection is a few pages (a hash join over a
// sequential scan), and keep it as the table grows, until the next ANALYZE: each step
// would then read the whole collection. So they are planned per step, and a step's plan on
// a grown table that was never analysed must read its keys through the key's index, and
// must never test each row against the whole key list (rows x keys).

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

const grown = (count: number) => Array.from({ length: count }, (_, i) => `grown-${String(i * 7).padStart(6, '0')}`);

const cases: [string, (keys: string[]) => SqlStatement][] = [
  ['liveRowsStatement', (k) => liveRowsStatement(k)],
  ['liveMatchesStatement', (k) => liveMatchesStatement([{ filters: { artifacts: { type: { any_: ['table'] } } } as never }], k)],
];

test.each(cases)('%s is planned for each step, never prepared', (_name, statementOf) => {
  expect(statementOf(['x']).prepare).toBe(false);
});

describe('on a collection grown two-thousandfold since it was last analysed', () => {
  beforeAll(async () => {
    await client.query('TRUNCATE artifact_collection, artifact, task_run, flow_run, deployment, flow CASCADE');
    // A new read model's first seconds: ten keys, analysed (autovacuum does it early).
    for (const seed of volumeSql({ versions: 100, flowRuns: 5 })) await (typeof seed === 'string' ? client.query(seed) : client.query(seed.text, seed.values as unknown[]));
    await client.query(`INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id)
      SELECT gen_random_uuid(), c.created, c.updated, 'grown-' || lpad((n * 10 + r)::text, 6, '0'), c.latest_id, c.type, c.description, c.data, c.metadata_, c.flow_run_id, c.task_run_id
      FROM (SELECT c.*, row_number() OVER (ORDER BY key) - 1 AS r FROM artifact_collection c) c CROSS JOIN generate_series(0, 1999) n`);
  }, 120_000);

  const onCollection = (plan: PlanNode[]) => plan.filter((n) => n['Relation Name'] === 'artifact_collection');

  test.each(cases)('%s: a step of 20 keys reads them through the index, not the whole table', async (_name, statementOf) => {
    const statement = statementOf(grown(20));
    expect(onCollection(await explain(client, statement)).map((n) => n['Node Type'])).toEqual(['Index Scan']);
    const { rowCount } = await client.query(statement.text, statement.values);
    expect(rowCount).toBe(20);
  });

  test.each(cases)('%s: a step of 3,000 keys never tests each row against the key list', async (_name, statementOf) => {
    const statement = statementOf(grown(3_000));
    const listFilters = onCollection(await explain(client, statement)).filter((n) => /ANY/.test(n.Filter ?? '')).map((n) => `${n['Node Type']}: ${n.Filter?.slice(0, 40)}`);
    expect(listFilters).toEqual([]);
    const { rowCount } = await client.query(statement.text, statement.values);
    const present = await client.query('SELECT 1 FROM artifact_collection WHERE key = ANY($1::text[])', [grown(3_000)]);
    expect(rowCount).toBe(present.rowCount);
    expect(rowCount).toBeGreaterThan(2_000);
  });
});
