import type { DeploymentUpserted, FlowRunUpserted, FlowUpserted, RunEventType, TaskRunUpserted } from '@app/contracts';

export type FlowRow = FlowUpserted;
export type DeploymentRow = DeploymentUpserted;
export type FlowRunRow = FlowRunUpserted;
export type TaskRunRow = TaskRunUpserted;

export interface RunRows {
  flow: FlowRow;
  deployment: DeploymentRow;
  flow_run: FlowRunRow;
  task_run: TaskRunRow;
}
export type RunTable = keyof RunRows;
export type RunRow = RunRows[RunTable];

export const RUN_TABLES: readonly RunTable[] = ['flow', 'deployment', 'flow_run', 'task_run'];

/** How a column travels: `tags` as one JSON array text per row (unnest would flatten a text[][]), `jsonb` as JSON text. */
export type ColumnKind = 'uuid' | 'timestamptz' | 'text' | 'tags' | 'boolean' | 'int4' | 'jsonb';

export const RUN_COLUMNS: { readonly [T in RunTable]: readonly (readonly [keyof RunRows[T] & string, ColumnKind])[] } = {
  flow: [
    ['id', 'uuid'],
    ['created', 'timestamptz'],
    ['updated', 'timestamptz'],
    ['name', 'text'],
    ['tags', 'tags'],
  ],
  deployment: [
    ['id', 'uuid'],
    ['created', 'timestamptz'],
    ['updated', 'timestamptz'],
    ['flow_id', 'uuid'],
    ['name', 'text'],
    ['tags', 'tags'],
    ['work_queue_name', 'text'],
    ['paused', 'boolean'],
    ['concurrency_limit', 'int4'],
  ],
  flow_run: [
    ['id', 'uuid'],
    ['created', 'timestamptz'],
    ['updated', 'timestamptz'],
    ['flow_id', 'uuid'],
    ['deployment_id', 'uuid'],
    ['name', 'text'],
    ['tags', 'tags'],
    ['state_type', 'text'],
    ['state_name', 'text'],
    ['flow_version', 'text'],
    ['work_queue_name', 'text'],
    ['parent_task_run_id', 'uuid'],
    ['idempotency_key', 'text'],
    ['start_time', 'timestamptz'],
    ['end_time', 'timestamptz'],
    ['expected_start_time', 'timestamptz'],
    ['next_scheduled_start_time', 'timestamptz'],
    ['created_by', 'jsonb'],
  ],
  task_run: [
    ['id', 'uuid'],
    ['created', 'timestamptz'],
    ['updated', 'timestamptz'],
    ['flow_run_id', 'uuid'],
    ['name', 'text'],
    ['tags', 'tags'],
    ['task_key', 'text'],
    ['dynamic_key', 'text'],
    ['state_type', 'text'],
    ['state_name', 'text'],
    ['start_time', 'timestamptz'],
    ['end_time', 'timestamptz'],
    ['expected_start_time', 'timestamptz'],
  ],
};

/** Table and operation of each run event type; the tombstone `entity` is the table name. */
export const RUN_EVENT_TARGET: { readonly [T in RunEventType]: { table: RunTable; op: 'upsert' | 'delete' } } = {
  'prefect.flow.upserted': { table: 'flow', op: 'upsert' },
  'prefect.flow.deleted': { table: 'flow', op: 'delete' },
  'prefect.deployment.upserted': { table: 'deployment', op: 'upsert' },
  'prefect.deployment.deleted': { table: 'deployment', op: 'delete' },
  'prefect.flow-run.upserted': { table: 'flow_run', op: 'upsert' },
  'prefect.flow-run.deleted': { table: 'flow_run', op: 'delete' },
  'prefect.task-run.upserted': { table: 'task_run', op: 'upsert' },
  'prefect.task-run.deleted': { table: 'task_run', op: 'delete' },
};

/** A snapshot row straight from its payload (the contract already shaped payloads as rows). */
export function runRow<T extends RunTable>(table: T, payload: RunRows[T]): RunRows[T] {
  const row: Record<string, unknown> = {};
  for (const [column] of RUN_COLUMNS[table]) row[column] = (payload as unknown as Record<string, unknown>)[column];
  return row as unknown as RunRows[T];
}
