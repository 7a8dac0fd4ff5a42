import { MigrationInterface, QueryRunner } from 'typeorm';

// A flow-run, flow or deployment filter on the collection that matches many runs
// (a deployment owning 1/20 of them, issue #18) was planned as a hash semi-join
// over a sequential scan of artifact_collection: its cost grew with the table.
// With `id` in the flow_run_id index, the runs' collection ids come from the
// index alone (no heap visit per row), PostgreSQL drives the join from the
// matching runs, and only the page's rows are fetched (artifact-statements.ts).
// Still one index on the column, so a collection rewrite touches no more.
const up = `
CREATE INDEX IF NOT EXISTS ix_artifact_collection__flow_run_id_id ON artifact_collection (flow_run_id, id);
DROP INDEX IF EXISTS ix_artifact_collection__flow_run_id;
`;

export class CollectionRunIdIndex1700000000060 implements MigrationInterface {
  name = 'CollectionRunIdIndex1700000000060';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX ix_artifact_collection__flow_run_id ON artifact_collection (flow_run_id)');
    await runner.query('DROP INDEX IF EXISTS ix_artifact_collection__flow_run_id_id');
  }
}
