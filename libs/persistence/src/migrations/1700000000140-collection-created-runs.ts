import { MigrationInterface, QueryRunner } from 'typeorm';

// Issue #18: a CREATED_DESC page of the latest versions at an offset, filtered on a
// deployment, a flow or a state type (said on the run copies of migration 080), walked
// the (created, id) index and read each row from the heap to test its copy: at 1M
// versions, the page at offset 2,000 of a deployment owning half the runs read 4,400
// rows for its 200 ids. The index now carries the three copies, so the walk that picks
// the page's ids is index-only where the rows are all-visible (pgbench, one connection,
// 1M versions: 2.97 -> 1.48 ms; COMPLETED's page at 2,000, 3.01 -> 1.33 ms; the
// unfiltered page at 10,000, 1.62 -> 1.80 ms, the index being wider). Same name, same order: the copies are
// key columns after the unique (created, id), not INCLUDE columns, because a B-tree with
// INCLUDE columns is never deduplicated: each rewrite of a collection row (a new latest
// version, not a HOT update) leaves an entry of the same key, which deduplication folds
// into one; with INCLUDE the index grew to 57 MB for 100k keys at 1M versions (10 MB before).
const up = `
CREATE INDEX ix_artifact_collection__created_id_runs ON artifact_collection (created DESC, id DESC, run_deployment_id, run_flow_id, run_state_type);
DROP INDEX ix_artifact_collection__created_id;
ALTER INDEX ix_artifact_collection__created_id_runs RENAME TO ix_artifact_collection__created_id;
`;

export class CollectionCreatedRuns1700000000140 implements MigrationInterface {
  name = 'CollectionCreatedRuns1700000000140';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX ix_artifact_collection__created_id');
    await runner.query('CREATE INDEX ix_artifact_collection__created_id ON artifact_collection (created DESC, id DESC)');
  }
}
