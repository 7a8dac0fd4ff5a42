import { MigrationInterface, QueryRunner } from 'typeorm';

// Issue #18: a page of every version filtered on its deployment (a deployment owning
// 1/5 of the runs, at 1M versions) walked the versions in page order and looked up
// each one's flow run: 1,000 versions and 1,000 runs for a page of 200, 4,000 of each
// for a deployment owning 1/20. The version now carries its run's deployment
// (NULL while the run is unknown or has none), kept like the collection's copies of
// migration 080: the version insert reads its run, a flow_run write rewrites the copy
// of its versions, both under the run lock (libs/projections/src/batch.ts). A page
// filtered on a deployment id tests the copy before the EXISTS (artifact-query.ts,
// impliedRunConditions), so only the matching versions look up their run; the
// EXISTS still decides. No index: the page walks its order's index, and a
// deployment owning few versions is still found from its runs.
// The backfill leaves the tallies' update triggers aside: it changes neither a
// version's type nor its run.
const up = `
ALTER TABLE artifact ADD COLUMN run_deployment_id uuid;
ALTER TABLE artifact DISABLE TRIGGER tg_artifact__tally_update, DISABLE TRIGGER tg_artifact__tally_run_state_update;
UPDATE artifact a SET run_deployment_id = fr.deployment_id FROM flow_run fr WHERE fr.id = a.flow_run_id AND fr.deployment_id IS NOT NULL;
ALTER TABLE artifact ENABLE TRIGGER tg_artifact__tally_update, ENABLE TRIGGER tg_artifact__tally_run_state_update;
`;

export class VersionRunDeployment1700000000130 implements MigrationInterface {
  name = 'VersionRunDeployment1700000000130';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE artifact DROP COLUMN run_deployment_id');
  }
}
