import { completePayload } from '@app/contracts';
import type {
  ArtifactCreated,
  ArtifactDeleted,
  ArtifactUpdated,
  DecodedEvent,
  DeploymentUpserted,
  EventType,
  FlowRunUpserted,
  FlowUpserted,
  PayloadTypes,
  SourcePosition,
  TaskRunUpserted,
} from '@app/contracts';

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
  } as unknown as DecodedEvent<T>;
}

export function created(p: Partial<ArtifactCreated> & Pick<ArtifactCreated, 'id' | 'created'>, where: SourcePosition) {
  return event('prefect.artifact.created', completePayload('prefect.artifact.created', p), where);
}

export function updated(p: Partial<ArtifactUpdated> & Pick<ArtifactUpdated, 'id' | 'updated'>, where: SourcePosition) {
  return event('prefect.artifact.updated', completePayload('prefect.artifact.updated', p), where);
}

export function deleted(p: Partial<ArtifactDeleted> & Pick<ArtifactDeleted, 'id'>, where: SourcePosition, time = at(0)) {
  return event('prefect.artifact.deleted', completePayload('prefect.artifact.deleted', p), where, time);
}

export const runPosition = (offset: number, partition = 0) => position(offset, partition, 'prefect.runs');

type Upsert = 'prefect.flow.upserted' | 'prefect.deployment.upserted' | 'prefect.flow-run.upserted' | 'prefect.task-run.upserted';

function upserted<T extends Upsert>(type: T, name: string, p: Partial<PayloadTypes[T]> & { id: string; updated: string }, where: SourcePosition) {
  return event(type, completePayload(type, { name: `${name}-${p.id.slice(-4)}`, ...p }), where);
}

export const flowUpserted = (p: Partial<FlowUpserted> & { id: string; updated: string }, where: SourcePosition) => upserted('prefect.flow.upserted', 'flow', p, where);
export const flowRunUpserted = (p: Partial<FlowRunUpserted> & { id: string; updated: string }, where: SourcePosition) =>
  upserted('prefect.flow-run.upserted', 'run', p, where);
export const deploymentUpserted = (p: Partial<DeploymentUpserted> & { id: string; updated: string }, where: SourcePosition) =>
  upserted('prefect.deployment.upserted', 'dep', p, where);
export const taskRunUpserted = (p: Partial<TaskRunUpserted> & { id: string; updated: string }, where: SourcePosition) =>
  upserted('prefect.task-run.upserted', 'task', p, where);

export function entityDeleted(
  type: 'prefect.flow.deleted' | 'prefect.deployment.deleted' | 'prefect.flow-run.deleted' | 'prefect.task-run.deleted',
  p: { id: string; updated: string },
  where: SourcePosition,
) {
  return event(type, p, where);
}
