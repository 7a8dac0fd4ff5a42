import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../../../../test/support/database';

// Migration 1700000000150: the run-state tally's trigger plans its statements at each
// call. A session whose first call was small (a nested loop over the transition tables)
// then updates many versions at once, as the copy of a run's deployment does: that
// statement's plan (auto_explain, sent to the client) must not rescan a transition table
// inside a nested loop, and the counts must stay exact.

let db: TestDatabase;
let client: Client;
const plans: PlanNode[][] = [];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

const RUNS = 400;
const VERSIONS = 4_000;
const run = (n: number) => `00000000-0000-4000-8200-${n.toString(16).padStart(12, '0')}`;

beforeAll(async () => {
  db = await createTestDatabase('tally_run_state_per_call');
  const q = (text: string, values: unknown[] = []) => db.dataSource.query(text, values);
  await q(`INSERT INTO deployment (id, updated, name) VALUES ('00000000-0000-4000-8100-000000000001', now(), 'd')`);
  await q(
    `INSERT INTO flow_run (id, updated, deployment_id, name, state_type)
     SELECT ('00000000-0000-4000-8200-' || lpad(to_hex(i), 12, '0'))::uuid, now(), NULL, 'r' || i, (ARRAY['COMPLETED', 'FAILED'])[1 + i % 2]
     FROM generate_series(1, ${RUNS}) i`,
  );
  await q(
    `INSERT INTO artifact (id, created, updated, key, type, flow_run_id, src_partition, src_offset)
     SELECT gen_random_uuid(), now(), now(), NULL, 'table', ('00000000-0000-4000-8200-' || lpad(to_hex(1 + i % ${RUNS}), 12, '0'))::uuid, 0, i
     FROM generate_series(1, ${VERSIONS}) i`,
  );
  client = new Client({ connectionString: db.url });
  await client.connect();
  await client.query(`LOAD 'auto_explain'`);
  await client.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_format = json; SET client_min_messages = log`);
  client.on('notice', (notice) => {
    const text = notice.message ?? '';
    const at = text.indexOf('{');
    if (!text.startsWith('duration') || at < 0) return;
    const explained = JSON.parse(text.slice(at)) as { 'Query Text': string; Plan: PlanNode };
    if (explained['Query Text'].includes('INSERT INTO read_model_tally') && explained['Query Text'].includes('run_state_type')) plans.push(nodes(explained.Plan));
  });
}, 120_000);

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/** The nested loops whose inner side reads a transition table (rescanned once per outer row). */
const rescans = (plan: PlanNode[]) =>
  plan.filter((n) => n['Node Type'] === 'Nested Loop' && nodes(n.Plans![1]!).some((c) => c['Node Type'] === 'Named Tuplestore Scan'));

const tally = async () =>
  (
    await client.query<{ value: string; n: number }>(
      `SELECT value, sum(n)::int AS n FROM read_model_tally WHERE table_name = 'artifact' AND dimension = 'run_state_type' GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1`,
    )
  ).rows;

it('plans a large update of the versions for its size after a small one, and counts it exactly', async () => {
  expect(await tally()).toEqual([
    { value: 'COMPLETED', n: VERSIONS / 2 },
    { value: 'FAILED', n: VERSIONS / 2 },
  ]);
  // A small call first: its plan joins the two images of one row.
  await client.query('UPDATE artifact SET run_deployment_id = NULL WHERE src_offset = 1');
  expect(plans).toHaveLength(1);
  plans.length = 0;

  // Every version takes the deployment; every tenth moves to run 2.
  await client.query(`UPDATE artifact SET run_deployment_id = '00000000-0000-4000-8100-000000000001', flow_run_id = CASE WHEN src_offset % 10 = 0 THEN $1::uuid ELSE flow_run_id END`, [run(2)]);
  expect(plans).toHaveLength(1);
  expect(plans[0]!.filter((n) => n['Node Type'] === 'Named Tuplestore Scan').length).toBeGreaterThan(0);
  expect(rescans(plans[0]!).map((n) => n['Node Type'])).toEqual([]);
  // Version i was on run 1 + i % 400: for i a multiple of 10, an odd run (FAILED); run 2 is COMPLETED.
  expect(await tally()).toEqual([
    { value: 'COMPLETED', n: VERSIONS / 2 + VERSIONS / 10 },
    { value: 'FAILED', n: VERSIONS / 2 - VERSIONS / 10 },
  ]);
});
