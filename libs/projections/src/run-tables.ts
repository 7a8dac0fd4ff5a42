import { payloadKinds } from '@app/contracts';
import type { DeploymentUpserted, FlowRunUpserted, FlowUpserted, RunEventType, TaskRunUpserted, ValueKind } from '@app/contracts';

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

/** A table's columns are its upsert payload's fields, with their value kinds. */
export const RUN_COLUMNS: { readonly [T in RunTable]: readonly (readonly [keyof RunRows[T] & string, ValueKind])[] } = {
  flow: payloadKinds['prefect.flow.upserted'],
  deployment: payloadKinds['prefect.deployment.upserted'],
  flow_run: payloadKinds['prefect.flow-run.upserted'],
  task_run: payloadKinds['prefect.task-run.upserted'],
};

/** A snapshot row straight from its payload (the contract already shaped payloads as rows). */
export function runRow<T extends RunTable>(table: T, payload: RunRows[T]): RunRows[T] {
  const row: Record<string, unknown> = {};
  for (const [column] of RUN_COLUMNS[table]) row[column] = (payload as unknown as Record<string, unknown>)[column];
  return row as unknown as RunRows[T];
}
