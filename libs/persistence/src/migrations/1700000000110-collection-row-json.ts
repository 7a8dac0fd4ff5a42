import { MigrationInterface, QueryRunner } from 'typeorm';
import { artifactCollectionJson } from '../artifact-json';

// Issue #18: a 200-row page of the collection spent about 70% of its database time
// building each row's JSON from its columns (to_char of two timestamps, to_json of
// three strings, some thirty concatenations): at 1M versions, 10 clients, the UI's
// default page ran 1,280-1,300 pages/s, the same page read from a stored JSON column
// 4,100-4,680. So each collection row keeps its ArtifactCollection JSON, made by
// PostgreSQL on every insert and update of the row (a stored generated column), from
// the very expression the query app used to build per read (artifact-json.ts).
//
// A generated column takes immutable functions only. to_json of text, uuid and json
// output and prefect_timestamp's to_char of a UTC timestamp with a fixed numeric
// format depend on no setting, so the row's JSON is a function of its columns: the
// wrapper says so (IMMUTABLE). In PL/pgSQL: a SQL function declared IMMUTABLE over
// stable calls is not inlined, and took 15-18 us a row against 6-7 us (100k rows).
// Adding the column rewrites the table once, under an exclusive lock (at 100k keys, seconds).

// The row's columns the JSON reads: the function's parameters, and its arguments in the column's expression, in one order.
const READ = [['id', 'uuid'], ['created', 'timestamptz'], ['updated', 'timestamptz'], ['key', 'text'], ['latest_id', 'uuid'], ['type', 'text'],
  ['description', 'text'], ['data', 'json'], ['metadata_', 'json'], ['flow_run_id', 'uuid'], ['task_run_id', 'uuid']] as const;
const COLUMNS = READ.map(([name, type]) => `${name} ${type}`).join(', ');
const ARGUMENTS = READ.map(([name]) => name).join(', ');

const up = `
CREATE FUNCTION read_model_collection_json(${COLUMNS}) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN ${artifactCollectionJson('')};
END
$$;
ALTER TABLE artifact_collection ADD COLUMN row_json text NOT NULL GENERATED ALWAYS AS (read_model_collection_json(${ARGUMENTS})) STORED;
`;

export class CollectionRowJson1700000000110 implements MigrationInterface {
  name = 'CollectionRowJson1700000000110';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE artifact_collection DROP COLUMN row_json');
    await runner.query(`DROP FUNCTION read_model_collection_json(${COLUMNS})`);
  }
}
