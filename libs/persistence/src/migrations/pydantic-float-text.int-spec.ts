import { createTestDatabase, TestDatabase } from '../../../../test/support/database';
import { PydanticFloatText1700000000050 } from './1700000000050-pydantic-float-text';

// Rows written before the float layout changed (Python repr) read back as
// Prefect prints them (pydantic-core) once the migration ran.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('float_text');
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

const ID = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;

it('rewrites repr exponents of -5 to -9 in data, leaves every other text alone', async () => {
  const insert = (table: string, id: string, data: string | null) =>
    db.dataSource.query(
      `INSERT INTO ${table} (id, created, updated, key, data, metadata_${table === 'artifact' ? ', src_partition, src_offset' : ', latest_id'})
       VALUES ($1, now(), now(), $2, $3::json, '{"m":"1e-05"}'${table === 'artifact' ? ', 0, 0' : ', $1'})`,
      [id, `k${id.slice(-1)}`, data],
    );
  await insert('artifact', ID(1), '{"a":1e-05,"b":[1.5e-07,-1e-06,1e+16,1.0],"s":"1e-05"}');
  await insert('artifact', ID(2), '{"a":0.0001,"b":1e-10,"s":"x"}');
  await insert('artifact', ID(3), null);
  await insert('artifact_collection', ID(4), '[1e-09,2]');

  const queryRunner = db.dataSource.createQueryRunner();
  try {
    await new PydanticFloatText1700000000050().up(queryRunner);
  } finally {
    await queryRunner.release();
  }

  const rows = (await db.dataSource.query(
    `SELECT id::text, data::text, metadata_::text FROM artifact UNION ALL SELECT id::text, data::text, metadata_::text FROM artifact_collection ORDER BY 1`,
  )) as { id: string; data: string | null; metadata_: string }[];
  expect(rows).toEqual([
    { id: ID(1), data: '{"a":0.00001,"b":[1.5e-7,-1e-6,1e+16,1.0],"s":"1e-05"}', metadata_: '{"m":"1e-05"}' },
    { id: ID(2), data: '{"a":0.0001,"b":1e-10,"s":"x"}', metadata_: '{"m":"1e-05"}' },
    { id: ID(3), data: null, metadata_: '{"m":"1e-05"}' },
    { id: ID(4), data: '[1e-9,2]', metadata_: '{"m":"1e-05"}' },
  ]);
});
