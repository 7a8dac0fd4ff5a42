import { MigrationInterface, QueryRunner } from 'typeorm';

// Issue #18: a page of the latest versions filtered on its flow run's tags or its
// flow's tags walked the collection in id order and looked up each row's run (and
// flow): at 1M versions a tag half the runs carry read 400 rows and 400 runs for a
// page of 200, a flow tag on 7.5% of the rows 2,700 of each. The collection row now
// also carries its run's tags and its run's flow's tags (NULL while the run, or the
// flow, is unknown), kept like migration 080's copies: the collection upsert reads
// the run and its flow, a flow_run write rewrites its collections' copies, a flow
// write those of the collections whose run it owns, all under the run lock
// (libs/projections/src/batch.ts). A filter that asks the run nothing but its tags,
// deployment id and state type (or the flow nothing but its tags) is said on the
// copies alone (artifact-query.ts, runCopyConditions): a common tag is then a walk
// that reads each row once, and a rare one a bitmap of these GIN indexes, where
// the EXISTS would have started from flow_run's.
const up = `
ALTER TABLE artifact_collection ADD COLUMN run_tags text[], ADD COLUMN run_flow_tags text[];
ALTER TABLE artifact_collection DISABLE TRIGGER tg_artifact_collection__change_update;
UPDATE artifact_collection c SET run_tags = fr.tags, run_flow_tags = fl.tags
FROM flow_run fr LEFT JOIN flow fl ON fl.id = fr.flow_id WHERE fr.id = c.flow_run_id;
ALTER TABLE artifact_collection ENABLE TRIGGER tg_artifact_collection__change_update;
CREATE INDEX ix_artifact_collection__run_tags ON artifact_collection USING gin (run_tags);
CREATE INDEX ix_artifact_collection__run_flow_tags ON artifact_collection USING gin (run_flow_tags);
`;

export class CollectionRunTags1700000000120 implements MigrationInterface {
  name = 'CollectionRunTags1700000000120';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE artifact_collection DROP COLUMN run_tags, DROP COLUMN run_flow_tags');
  }
}
