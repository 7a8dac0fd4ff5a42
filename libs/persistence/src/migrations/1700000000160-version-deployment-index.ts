import { MigrationInterface, QueryRunner } from 'typeorm';

// Issue #18: a versions page of a deployment (CREATED_DESC, the Prefect UI's deployment
// page) walked every version in created order and tested each one's copy of its run's
// deployment (migration 130) from the heap: 1,000 versions for 200 of a deployment owning
// 1/5 of the runs, 4,000 at 1/20, the whole table for one that owns a handful (then found
// from its runs instead). With the copy leading an index in page order, the page is one
// index range of the deployment: 200 entries for 200 rows at any share. Partial: a version
// of no run or of a run with no deployment is never matched by a deployment filter.
const up = `
CREATE INDEX ix_artifact__run_deployment_id_created_id ON artifact (run_deployment_id, created DESC, id DESC)
  WHERE run_deployment_id IS NOT NULL;
`;

export class VersionDeploymentIndex1700000000160 implements MigrationInterface {
  name = 'VersionDeploymentIndex1700000000160';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX ix_artifact__run_deployment_id_created_id');
  }
}
