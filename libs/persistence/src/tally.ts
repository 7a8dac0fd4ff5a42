/**
 * The columns whose values the read-model tally counts, per table (migration
 * 1700000000090 makes its triggers from this list; changing it needs a migration
 * that makes them again). A file of its own, without TypeORM, so the filters can
 * tell which counts the tally answers.
 */
export const TALLIED_COLUMNS = {
  artifact: ['type'],
  artifact_collection: ['type', 'run_deployment_id', 'run_flow_id', 'run_state_type'],
} as const;

export type TalliedTable = keyof typeof TALLIED_COLUMNS;
