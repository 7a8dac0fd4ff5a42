import { MigrationInterface, QueryRunner } from 'typeorm';

// Issue #18: a deployment, flow or flow-run state filter on the latest versions
// whose target owns a large share of the runs (1/20, 1/5, 1/2) had no plan that
// was good for every share: from the runs it sorts thousands of collection ids,
// from the page order it probes a run per row, and the generic plan of a prepared
// statement cannot tell which. The collection row now carries its run's flow,
// deployment and state type (NULL while the run is unknown), kept by the ingest
// (the collection upsert reads the run; a flow_run write rewrites its collections'
// copies, under an advisory lock shared with the collection writers, so a run and
// an artifact written concurrently cannot miss each other). The query adds
// `run_deployment_id = ANY(...)` (etc.) beside the EXISTS it implies, so a page
// is one range of these indexes in id order whatever the share; the EXISTS still
// decides, so the answers are the same. A filter that asks the run nothing but these
// (a deployment or flow id, a run's deployment id or state type) is said on the
// copies alone, without the EXISTS (artifact-query.ts, runCopyConditions).
const up = `
ALTER TABLE artifact_collection ADD COLUMN run_flow_id uuid, ADD COLUMN run_deployment_id uuid, ADD COLUMN run_state_type text;
ALTER TABLE artifact_collection DISABLE TRIGGER tg_artifact_collection__change_update;
UPDATE artifact_collection c SET run_flow_id = fr.flow_id, run_deployment_id = fr.deployment_id, run_state_type = fr.state_type
FROM flow_run fr WHERE fr.id = c.flow_run_id;
ALTER TABLE artifact_collection ENABLE TRIGGER tg_artifact_collection__change_update;
CREATE INDEX ix_artifact_collection__run_deployment_id_id ON artifact_collection (run_deployment_id, id);
CREATE INDEX ix_artifact_collection__run_flow_id_id ON artifact_collection (run_flow_id, id);
CREATE INDEX ix_artifact_collection__run_state_type_id ON artifact_collection (run_state_type, id);
`;

export class CollectionRunColumns1700000000080 implements MigrationInterface {
  name = 'CollectionRunColumns1700000000080';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE artifact_collection DROP COLUMN run_flow_id, DROP COLUMN run_deployment_id, DROP COLUMN run_state_type');
  }
}
