import type { WirePayloads } from '../payloads';
import type { EventType } from '../topics';

// Valid producer payloads of every event type, for specs that encode, change or
// cut them (the decoder's and the producer's unit specs, the hostile-event tests).

export const ID = '6f9619ff-8b86-4d01-b42d-00c04fc964ff';
export const RUN = '5c52ef97-c8ab-4c25-baf4-79ac226afe8e';
export const T = '2024-06-01T10:00:01.123456Z';

export type WireSamples = { [K in EventType]: WirePayloads[K] };

/** The required fields and a few optional ones, as a producer typically sends them. */
export const SAMPLES: WireSamples = {
  'prefect.artifact.created': { id: ID, key: 'daily-report', type: 'table', data: { rows: [1, 2] }, metadata_: { owner: 'ops' }, flow_run_id: RUN, created: T },
  'prefect.artifact.updated': { id: ID, key: 'daily-report', updated: T, description: 'x' },
  'prefect.artifact.deleted': { id: ID, key: 'daily-report' },
  'prefect.flow.upserted': { id: ID, name: 'etl', tags: ['a'], created: T, updated: T },
  'prefect.flow.deleted': { id: ID, updated: T },
  'prefect.deployment.upserted': { id: ID, flow_id: RUN, name: 'nightly', tags: [], work_queue_name: 'default', paused: true, concurrency_limit: 5, created: T, updated: T },
  'prefect.deployment.deleted': { id: ID, updated: T },
  'prefect.flow-run.upserted': { id: ID, flow_id: RUN, name: 'brave-otter', state_type: 'RUNNING', state_name: 'Running', updated: T },
  'prefect.flow-run.deleted': { id: ID, updated: T },
  'prefect.task-run.upserted': { id: ID, flow_run_id: RUN, name: 'extract-0', task_key: 'extract', dynamic_key: '0', updated: T },
  'prefect.task-run.deleted': { id: ID, updated: T },
};

/** Every payload field present: the hostile-event tests replace one field at a time. */
export const FULL_SAMPLES: WireSamples = {
  'prefect.artifact.created': { id: ID, key: 'hostile', type: 'markdown', description: 'd', data: { a: 1 }, metadata_: { m: 'v' }, flow_run_id: ID, task_run_id: ID, created: T, updated: T },
  'prefect.artifact.updated': { id: ID, key: 'hostile', updated: T, data: 1, description: 'x', metadata_: { m: 'w' } },
  'prefect.artifact.deleted': { id: ID, key: 'hostile', updated: T },
  'prefect.flow.upserted': { id: ID, name: 'f', tags: ['a'], created: T, updated: T },
  'prefect.flow.deleted': { id: ID, updated: T },
  'prefect.deployment.upserted': { id: ID, flow_id: ID, name: 'd', tags: [], work_queue_name: 'q', paused: false, concurrency_limit: 1, created: T, updated: T },
  'prefect.deployment.deleted': { id: ID, updated: T },
  'prefect.flow-run.upserted': {
    id: ID,
    flow_id: ID,
    deployment_id: ID,
    name: 'r',
    tags: [],
    state_type: 'RUNNING',
    state_name: 'Running',
    state: { type: 'RUNNING', name: 'Running' },
    flow_version: '1',
    work_queue_name: 'q',
    parent_task_run_id: ID,
    idempotency_key: 'i',
    start_time: T,
    end_time: T,
    expected_start_time: T,
    next_scheduled_start_time: T,
    created_by: { id: ID, type: 'USER', display_value: 'me' },
    created: T,
    updated: T,
  },
  'prefect.flow-run.deleted': { id: ID, updated: T },
  'prefect.task-run.upserted': {
    id: ID,
    flow_run_id: ID,
    name: 't',
    tags: [],
    task_key: 'k',
    dynamic_key: '0',
    state_type: 'COMPLETED',
    state_name: 'Completed',
    state: null,
    start_time: T,
    end_time: T,
    expected_start_time: T,
    created: T,
    updated: T,
  },
  'prefect.task-run.deleted': { id: ID, updated: T },
};
