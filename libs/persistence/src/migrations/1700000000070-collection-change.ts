import { MigrationInterface, QueryRunner } from 'typeorm';

// Live subscriptions (docs/api.md, "Subscriptions"): every write that can change
// what a latest/filter answer holds records the collection keys it touched, in
// the writer's own transaction, and wakes the query apps with pg_notify (sent at
// commit). A change's position is (xid, id): readers only take changes whose
// transaction is older than every one still running (pg_snapshot_xmin), so a
// position once passed is never preceded by a change that commits later.
// Statement-level triggers with transition tables: one INSERT per statement,
// the keys of its rows; a run, flow or deployment changing records the keys of
// the collections that reference it (their run filters may now match or not).
// A NULL key means "everything": the rebuild swapped the tables in.
const RUN_TABLES = {
  artifact_collection: 'SELECT key FROM changed_rows',
  flow_run: 'SELECT c.key FROM artifact_collection c WHERE c.flow_run_id IN (SELECT id FROM changed_rows)',
  task_run: 'SELECT c.key FROM artifact_collection c WHERE c.task_run_id IN (SELECT id FROM changed_rows)',
  flow: `SELECT c.key FROM artifact_collection c JOIN flow_run fr ON fr.id = c.flow_run_id WHERE fr.flow_id IN (SELECT id FROM changed_rows)`,
  deployment: `SELECT c.key FROM artifact_collection c JOIN flow_run fr ON fr.id = c.flow_run_id WHERE fr.deployment_id IN (SELECT id FROM changed_rows)`,
} as const;

const branches = Object.entries(RUN_TABLES)
  .map(([table, keys], i) => `  ${i === 0 ? 'IF' : 'ELSIF'} TG_TABLE_NAME = '${table}' THEN\n    INSERT INTO collection_change (key) SELECT DISTINCT key FROM (${keys}) k;`)
  .join('\n');

const triggers = Object.keys(RUN_TABLES)
  .flatMap((table) =>
    (['INSERT', 'UPDATE', 'DELETE'] as const).map(
      (op) =>
        `CREATE TRIGGER tg_${table}__change_${op.toLowerCase()} AFTER ${op} ON ${table}
  REFERENCING ${op === 'DELETE' ? 'OLD' : 'NEW'} TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION collection_change_note();`,
    ),
  )
  .join('\n');

const up = `
CREATE TABLE collection_change (
  xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
  id         bigint GENERATED ALWAYS AS IDENTITY,
  key        text,
  changed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (xid, id)
);
CREATE INDEX ix_collection_change__changed_at ON collection_change USING brin (changed_at);

-- The position up to which changes were pruned: a resume position below it is too old.
CREATE TABLE collection_change_pruned (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  xid xid8 NOT NULL,
  id  bigint NOT NULL
);
INSERT INTO collection_change_pruned (xid, id) VALUES ('0', 0);

CREATE FUNCTION collection_change_note() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
${branches}
  END IF;
  IF FOUND THEN
    PERFORM pg_notify('collection_change', '');
  END IF;
  RETURN NULL;
END
$$;

${triggers}
`;

export class CollectionChange1700000000070 implements MigrationInterface {
  name = 'CollectionChange1700000000070';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP FUNCTION collection_change_note() CASCADE');
    await runner.query('DROP TABLE collection_change, collection_change_pruned');
  }
}
