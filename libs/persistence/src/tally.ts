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

/**
 * The versions counted by their flow run's state type (migration 1700000000100): rows
 * of `artifact JOIN flow_run`, kept by triggers on both tables, in the same tally.
 */
export const TALLIED_RUN_STATE = { table: 'artifact', dimension: 'run_state_type' } as const;
