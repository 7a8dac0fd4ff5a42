import type { ArtifactCreated, ArtifactDeleted, ArtifactUpdated, DecodedEvent, EventType, PayloadTypes, SourcePosition } from '@app/contracts';

// Builders of decoded events for specs: payloads are already in decoded
// (canonical) form, as decodeMessage returns them.

export const T0 = Date.UTC(2024, 0, 1);

/** Canonical timestamp `n` seconds (plus `micros`) after 2024-01-01T00:00:00Z. */
export function at(seconds: number, micros = 0): string {
  return new Date(T0 + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `.${String(micros).padStart(6, '0')}Z`);
}

export function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export function position(offset: number | string, partition = 0, topic = 'prefect.artifacts'): SourcePosition {
  return { topic, partition, offset: String(offset) };
}

let eventSeq = 0;

export function event<T extends EventType>(type: T, data: PayloadTypes[T], where: SourcePosition, time?: string): DecodedEvent<T> {
  const d = data as { id: string; updated?: string | null; created?: string | null };
  return {
    id: `evt-${++eventSeq}`,
    source: '/test',
    time: time ?? d.updated ?? d.created ?? at(0),
    subject: d.id,
    type,
    data,
    position: where,
  } as DecodedEvent<T>;
}

export function created(p: Partial<ArtifactCreated> & Pick<ArtifactCreated, 'id' | 'created'>, where: SourcePosition) {
  return event(
    'prefect.artifact.created',
    {
      key: null,
      type: null,
      description: null,
      data: null,
      metadata_: null,
      flow_run_id: null,
      task_run_id: null,
      updated: p.created,
      ...p,
    },
    where,
  );
}

export function updated(p: Partial<ArtifactUpdated> & Pick<ArtifactUpdated, 'id' | 'updated'>, where: SourcePosition) {
  return event('prefect.artifact.updated', { key: null, ...p }, where);
}

export function deleted(p: Partial<ArtifactDeleted> & Pick<ArtifactDeleted, 'id'>, where: SourcePosition, time = at(0)) {
  return event('prefect.artifact.deleted', { key: null, updated: null, ...p }, where, time);
}

export const runPosition = (offset: number, partition = 0) => position(offset, partition, 'prefect.runs');

export function flowUpserted(p: Partial<PayloadTypes['prefect.flow.upserted']> & { id: string; updated: string }, where: SourcePosition) {
  return event('prefect.flow.upserted', { created: null, name: `flow-${p.id.slice(-4)}`, tags: [], ...p }, where);
}

export function flowRunUpserted(p: Partial<PayloadTypes['prefect.flow-run.upserted']> & { id: string; updated: string }, where: SourcePosition) {
  return event(
    'prefect.flow-run.upserted',
    {
      created: null,
      flow_id: null,
      deployment_id: null,
      name: `run-${p.id.slice(-4)}`,
      tags: [],
      state_type: null,
      state_name: null,
      flow_version: null,
      work_queue_name: null,
      parent_task_run_id: null,
      idempotency_key: null,
      start_time: null,
      end_time: null,
      expected_start_time: null,
      next_scheduled_start_time: null,
      created_by: null,
      ...p,
    },
    where,
  );
}

export function deploymentUpserted(p: Partial<PayloadTypes['prefect.deployment.upserted']> & { id: string; updated: string }, where: SourcePosition) {
  return event(
    'prefect.deployment.upserted',
    { created: null, flow_id: null, name: `dep-${p.id.slice(-4)}`, tags: [], work_queue_name: null, paused: false, concurrency_limit: null, ...p },
    where,
  );
}

export function taskRunUpserted(p: Partial<PayloadTypes['prefect.task-run.upserted']> & { id: string; updated: string }, where: SourcePosition) {
  return event(
    'prefect.task-run.upserted',
    {
      created: null,
      flow_run_id: null,
      name: `task-${p.id.slice(-4)}`,
      tags: [],
      task_key: null,
      dynamic_key: null,
      state_type: null,
      state_name: null,
      start_time: null,
      end_time: null,
      expected_start_time: null,
      ...p,
    },
    where,
  );
}

export function entityDeleted(
  type: 'prefect.flow.deleted' | 'prefect.deployment.deleted' | 'prefect.flow-run.deleted' | 'prefect.task-run.deleted',
  p: { id: string; updated: string },
  where: SourcePosition,
) {
  return event(type, p, where);
}
