import { artifactCollectionJson } from '../artifact-json';
import { createTestDatabase, TestDatabase } from '../../../../test/support/database';

// Migration 1700000000110: each collection row keeps its ArtifactCollection JSON, made by
// PostgreSQL on insert and update; it must be the text the columns build (artifact-json.ts).

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('row_json');
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

const ID = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
const RUN = '10000000-0000-4000-8000-000000000001';

async function storedAndBuilt(): Promise<{ stored: string; built: string }[]> {
  return db.dataSource.query(`SELECT t.row_json AS stored, ${artifactCollectionJson('t')} AS built FROM artifact_collection t ORDER BY t.key`);
}

it('stores the JSON the columns build, and makes it again on every update', async () => {
  await db.dataSource.query(
    `INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id)
     VALUES ($1, '2026-01-02T03:04:05Z', '2026-01-02T03:04:05.000123Z', 'a-key', $2, 'markdown', $3, '{"x": [1, 2.50]}', '{"m":"v"}', $4, NULL),
            ($2, '2026-02-03T04:05:06.5Z', '2026-02-03T04:05:07Z', 'b-key', $1, NULL, NULL, NULL, NULL, NULL, $4)`,
    [ID(1), ID(2), 'quote " backslash \\ tab \t é ✓', RUN],
  );
  const first = await storedAndBuilt();
  expect(first.map((r) => r.stored)).toEqual(first.map((r) => r.built));
  // One of them written out, so the builder is not only compared with itself.
  expect(first[0]!.stored).toBe(
    `{"id":"${ID(1)}","created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05.000123Z","key":"a-key","latest_id":"${ID(2)}",` +
      `"type":"markdown","description":"quote \\" backslash \\\\ tab \\t é ✓","data":{"x": [1, 2.50]},"metadata_":{"m":"v"},"flow_run_id":"${RUN}","task_run_id":null}`,
  );

  // A new latest version rewrites the row (as the ingest's upsert does); a run's copy columns change alone.
  await db.dataSource.query(
    `UPDATE artifact_collection SET updated = '2026-03-04T05:06:07.25Z', latest_id = $1, type = 'table', description = 'new', data = '[]' WHERE key = 'a-key'`,
    [ID(3)],
  );
  await db.dataSource.query(`UPDATE artifact_collection SET run_state_type = 'FAILED', run_flow_id = $1 WHERE key = 'b-key'`, [RUN]);
  const second = await storedAndBuilt();
  expect(second.map((r) => r.stored)).toEqual(second.map((r) => r.built));
  expect(second[0]!.stored).toContain(`"updated":"2026-03-04T05:06:07.250000Z","key":"a-key","latest_id":"${ID(3)}","type":"table","description":"new","data":[]`);
  expect(second[1]!.stored).toBe(first[1]!.stored);
});

it('cannot be written by a client', async () => {
  await expect(
    db.dataSource.query(`INSERT INTO artifact_collection (id, created, updated, key, latest_id, row_json) VALUES ($1, now(), now(), 'c-key', $1, '{}')`, [ID(4)]),
  ).rejects.toThrow('cannot insert a non-DEFAULT value into column "row_json"');
});
