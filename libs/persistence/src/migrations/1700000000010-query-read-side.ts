import { MigrationInterface, QueryRunner } from 'typeorm';

// What the query app needs on top of the initial schema: Prefect's timestamp
// text in SQL, exact row counts for unfiltered counts, and indexes for the
// filters of the artifact read API (Prefect's own schema indexes most of these
// columns too). The indexes for the sorts and the artifact filters are in the
// initial schema.

/**
 * The row-count trigger function, its slot given by the SQL expression `slot` (this
 * migration's backend slot; migration 1700000000090's claimed one).
 */
export const rowCountFunction = (slot: string) => `CREATE OR REPLACE FUNCTION read_model_row_count_add() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  delta bigint;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM read_model_row_count WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
  ELSIF TG_OP = 'INSERT' THEN
    SELECT count(*) INTO delta FROM changed_rows;
  ELSE
    SELECT -count(*) INTO delta FROM changed_rows;
  END IF;
  IF delta <> 0 THEN
    INSERT INTO read_model_row_count AS c (table_name, slot, n) VALUES (TG_TABLE_NAME, ${slot}, delta)
    ON CONFLICT (table_name, slot) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END
$$;`;

const up = `
-- Prefect prints UTC with a literal Z, and 6 fractional digits unless they are all zero.
CREATE OR REPLACE FUNCTION prefect_timestamp(ts timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN date_trunc('second', ts) = ts
    THEN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    ELSE to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  END
$$;

-- Exact row counts of artifact and artifact_collection for unfiltered counts
-- (the UI's latest/count), kept by statement-level triggers in the writers'
-- transactions. Several slots per table, picked by backend, so concurrent
-- writers do not queue on one row; a count is the sum of a table's slots.
CREATE TABLE read_model_row_count (
  table_name text NOT NULL,
  slot       integer NOT NULL,
  n          bigint NOT NULL,
  PRIMARY KEY (table_name, slot)
);

${rowCountFunction('pg_backend_pid() % 16')}

CREATE TRIGGER tg_artifact__count_insert AFTER INSERT ON artifact
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION read_model_row_count_add();
CREATE TRIGGER tg_artifact__count_delete AFTER DELETE ON artifact
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION read_model_row_count_add();
CREATE TRIGGER tg_artifact__count_truncate AFTER TRUNCATE ON artifact
  FOR EACH STATEMENT EXECUTE FUNCTION read_model_row_count_add();
CREATE TRIGGER tg_artifact_collection__count_insert AFTER INSERT ON artifact_collection
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION read_model_row_count_add();
CREATE TRIGGER tg_artifact_collection__count_delete AFTER DELETE ON artifact_collection
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION read_model_row_count_add();
CREATE TRIGGER tg_artifact_collection__count_truncate AFTER TRUNCATE ON artifact_collection
  FOR EACH STATEMENT EXECUTE FUNCTION read_model_row_count_add();

-- The triggers' locks keep writers out until this migration commits, so the seed is exact.
INSERT INTO read_model_row_count (table_name, slot, n)
  SELECT 'artifact', 0, count(*) FROM artifact UNION ALL SELECT 'artifact_collection', 0, count(*) FROM artifact_collection;

CREATE INDEX IF NOT EXISTS ix_artifact_collection__type_id ON artifact_collection (type, id DESC);

CREATE INDEX IF NOT EXISTS ix_flow_run__name ON flow_run (name);
CREATE INDEX IF NOT EXISTS ix_flow_run__name_trgm ON flow_run USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_flow_run__state_name ON flow_run (state_name);
CREATE INDEX IF NOT EXISTS ix_flow_run__work_queue_name ON flow_run (work_queue_name);
CREATE INDEX IF NOT EXISTS ix_flow_run__flow_version ON flow_run (flow_version);
CREATE INDEX IF NOT EXISTS ix_flow_run__idempotency_key ON flow_run (idempotency_key);
CREATE INDEX IF NOT EXISTS ix_flow_run__start_or_expected ON flow_run ((coalesce(start_time, expected_start_time)));
CREATE INDEX IF NOT EXISTS ix_flow_run__end_time ON flow_run (end_time);
CREATE INDEX IF NOT EXISTS ix_flow_run__expected_start_time ON flow_run (expected_start_time);
CREATE INDEX IF NOT EXISTS ix_flow_run__next_scheduled_start_time ON flow_run (next_scheduled_start_time);
CREATE INDEX IF NOT EXISTS ix_flow_run__created_by_id ON flow_run ((created_by->>'id'));
CREATE INDEX IF NOT EXISTS ix_flow_run__created_by_type ON flow_run ((created_by->>'type'));

CREATE INDEX IF NOT EXISTS ix_task_run__name ON task_run (name);
CREATE INDEX IF NOT EXISTS ix_task_run__name_trgm ON task_run USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_task_run__state_name ON task_run (state_name);
CREATE INDEX IF NOT EXISTS ix_task_run__start_time ON task_run (start_time);
CREATE INDEX IF NOT EXISTS ix_task_run__end_time ON task_run (end_time);
CREATE INDEX IF NOT EXISTS ix_task_run__expected_start_time ON task_run (expected_start_time);

CREATE INDEX IF NOT EXISTS ix_flow__name_trgm ON flow USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_deployment__name_trgm ON deployment USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_deployment__work_queue_name ON deployment (work_queue_name);
`;

const down = `
DROP INDEX IF EXISTS ix_artifact_collection__type_id, ix_flow_run__name, ix_flow_run__name_trgm, ix_flow_run__state_name,
  ix_flow_run__work_queue_name, ix_flow_run__flow_version, ix_flow_run__idempotency_key, ix_flow_run__start_or_expected,
  ix_flow_run__end_time, ix_flow_run__expected_start_time, ix_flow_run__next_scheduled_start_time, ix_flow_run__created_by_id,
  ix_flow_run__created_by_type, ix_task_run__name, ix_task_run__name_trgm, ix_task_run__state_name, ix_task_run__start_time,
  ix_task_run__end_time, ix_task_run__expected_start_time, ix_flow__name_trgm, ix_deployment__name_trgm, ix_deployment__work_queue_name;
DROP TRIGGER IF EXISTS tg_artifact__count_insert ON artifact;
DROP TRIGGER IF EXISTS tg_artifact__count_delete ON artifact;
DROP TRIGGER IF EXISTS tg_artifact__count_truncate ON artifact;
DROP TRIGGER IF EXISTS tg_artifact_collection__count_insert ON artifact_collection;
DROP TRIGGER IF EXISTS tg_artifact_collection__count_delete ON artifact_collection;
DROP TRIGGER IF EXISTS tg_artifact_collection__count_truncate ON artifact_collection;
DROP FUNCTION IF EXISTS read_model_row_count_add();
DROP TABLE IF EXISTS read_model_row_count;
DROP FUNCTION IF EXISTS prefect_timestamp(timestamptz);
`;

export class QueryReadSide1700000000010 implements MigrationInterface {
  name = 'QueryReadSide1700000000010';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(down);
  }
}
