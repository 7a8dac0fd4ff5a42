import { createTestDatabase, TestDatabase } from '../../../../test/support/database';
import { VersionRunDeployment1700000000130 } from './1700000000130-version-run-deployment';

// Migration 1700000000130 on a read model that already holds versions: each version takes
// its run's deployment (NULL without a known run or a deployment), the tallies stay as
// they were, and their triggers are on again afterwards.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('version_run_deployment');
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

const id = (kind: number, n: number) => `00000000-0000-4000-800${kind}-00000000000${n}`;
const [D1, R1, R2, R3] = [id(1, 1), id(2, 1), id(2, 2), id(2, 3)];

it("copies each version its run's deployment, leaving the tallies and their triggers as they were", async () => {
  const q = (text: string, values: unknown[] = []) => db.dataSource.query(text, values) as Promise<Record<string, unknown>[]>;
  await q(`INSERT INTO deployment (id, updated, name) VALUES ($1, now(), 'd')`, [D1]);
  await q(`INSERT INTO flow_run (id, updated, deployment_id, name, state_type) VALUES ($1, now(), $2, 'r1', 'FAILED'), ($3, now(), NULL, 'r2', 'COMPLETED')`, [R1, D1, R2]);
  await q(
    `INSERT INTO artifact (id, created, updated, key, type, flow_run_id, src_partition, src_offset)
     SELECT v.id::uuid, now(), now(), NULL, 'table', v.run::uuid, 0, v.n FROM (VALUES ($1, $2, 1), ($3, $4, 2), ($5, NULL, 3), ($6, $7, 4)) AS v(id, run, n)`,
    [id(3, 1), R1, id(3, 2), R2, id(3, 3), id(3, 4), R3],
  );
  const tally = () => q(`SELECT dimension, value, sum(n)::int AS n FROM read_model_tally WHERE table_name = 'artifact' GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2`);
  const before = await tally();
  expect(before).toEqual([
    { dimension: 'run_state_type', value: 'COMPLETED', n: 1 },
    { dimension: 'run_state_type', value: 'FAILED', n: 1 },
    { dimension: 'type', value: 'table', n: 4 },
  ]);

  await q('ALTER TABLE artifact DROP COLUMN run_deployment_id');
  const runner = db.dataSource.createQueryRunner();
  try {
    await new VersionRunDeployment1700000000130().up(runner);
  } finally {
    await runner.release();
  }

  expect(await q('SELECT id, run_deployment_id FROM artifact ORDER BY id')).toEqual([
    { id: id(3, 1), run_deployment_id: D1 },
    { id: id(3, 2), run_deployment_id: null },
    { id: id(3, 3), run_deployment_id: null },
    { id: id(3, 4), run_deployment_id: null },
  ]);
  expect(await tally()).toEqual(before);
  expect(await q(`SELECT tgname FROM pg_trigger WHERE tgrelid = 'artifact'::regclass AND NOT tgisinternal AND tgenabled <> 'O'`)).toEqual([]);
  // The update triggers are on: a version moving to another run moves its run-state count.
  await q('UPDATE artifact SET flow_run_id = $1 WHERE id = $2', [R1, id(3, 2)]);
  expect(await tally()).toEqual([
    { dimension: 'run_state_type', value: 'FAILED', n: 2 },
    { dimension: 'type', value: 'table', n: 4 },
  ]);
});
