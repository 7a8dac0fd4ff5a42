// Synthetic read-model volume for plan checks and benchmarks, with the peer
// figures' shape: N artifact versions over N/10 keys, N/20 flow runs, N/10
// task runs, one collection row per key mirroring its latest version.
// Deployments 1-20 own 1/20 of the flow runs each (busy production deployments:
// the filter on one is the query whose generic plan went wrong, issue #18); the
// other 180 own none.

import { runCopiesSync } from '@app/projections';
import type { SqlStatement } from '@app/persistence';

export interface VolumeOptions {
  versions: number;
  /** Flow runs; versions / 20 unless given. */
  flowRuns?: number;
}

/** A statement of the seed: SQL text, or text with values. */
export type SeedStatement = string | SqlStatement;

export function volumeSql({ versions, flowRuns: runs }: VolumeOptions): SeedStatement[] {
  const keys = Math.max(1, Math.floor(versions / 10));
  const flowRuns = runs ?? Math.max(1, Math.floor(versions / 20));
  const taskRuns = Math.max(1, Math.floor(versions / 10));
  const uuid = (kind: number, n: string) => `('00000000-0000-4000-8${kind}00-' || lpad(to_hex(${n}), 12, '0'))::uuid`;
  return [
    `INSERT INTO flow (id, created, updated, name, tags)
     SELECT ${uuid(1, 'i')}, now(), now(), 'flow-' || i, ARRAY['team-' || (i % 5)] FROM generate_series(1, 100) i`,
    `INSERT INTO deployment (id, created, updated, flow_id, name, tags, work_queue_name, paused)
     SELECT ${uuid(2, 'i')}, now(), now(), ${uuid(1, '1 + i % 100')}, 'deployment-' || i, ARRAY['env-' || (i % 3)], 'queue-' || (i % 4), i % 10 = 0
     FROM generate_series(1, 200) i`,
    `INSERT INTO flow_run (id, created, updated, flow_id, deployment_id, name, tags, state_type, state_name, start_time, end_time, expected_start_time)
     SELECT ${uuid(3, 'i')}, t, t, ${uuid(1, '1 + i % 100')}, ${uuid(2, '1 + i % 20')},
            'run-' || i, ARRAY['tag-' || (i % 7)], s.type, initcap(s.type), t, t + interval '1 minute', t
     FROM generate_series(1, ${flowRuns}) i
     CROSS JOIN LATERAL (SELECT timestamptz '2024-01-01' + i * interval '1 second' AS t) tt
     CROSS JOIN LATERAL (SELECT (ARRAY['COMPLETED','COMPLETED','COMPLETED','FAILED','RUNNING','SCHEDULED'])[1 + i % 6] AS type) s`,
    `INSERT INTO task_run (id, created, updated, flow_run_id, name, tags, state_type, state_name, start_time, end_time, expected_start_time)
     SELECT ${uuid(4, 'i')}, now(), now(), ${uuid(3, `1 + i % ${flowRuns}`)}, 'task-' || i, '{}', 'COMPLETED', 'Completed', NULL, NULL, NULL
     FROM generate_series(1, ${taskRuns}) i`,
    `INSERT INTO artifact (id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id, src_partition, src_offset)
     SELECT gen_random_uuid(), t, t, CASE WHEN i % 50 = 0 THEN NULL ELSE 'key-' || lpad((i % ${keys})::text, 6, '0') END,
            (ARRAY['markdown','table','result','progress','link','image'])[1 + i % 6], 'Artifact number ' || i,
            ('{"value":' || i || ',"ratio":1.0}')::json, '{"owner":"ops"}'::json,
            ${uuid(3, `1 + i % ${flowRuns}`)}, ${uuid(4, `1 + i % ${taskRuns}`)}, i % 6, i
     FROM generate_series(1, ${versions}) i
     CROSS JOIN LATERAL (SELECT timestamptz '2024-01-01' + i * interval '1 second' AS t) tt`,
    `INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id)
     SELECT gen_random_uuid(), first_created, created, key, id, type, description, data, metadata_, flow_run_id, task_run_id
     FROM (SELECT DISTINCT ON (key) a.*, min(created) OVER (PARTITION BY key) AS first_created
           FROM artifact a WHERE key IS NOT NULL ORDER BY key, created DESC, src_offset DESC) latest`,
    // the versions' and the collections' copies of their run's columns, by the ingest app's own statement
    runCopiesSync(Array.from({ length: flowRuns }, (_, i) => `00000000-0000-4000-8300-${(i + 1).toString(16).padStart(12, '0')}`)),
    'VACUUM ANALYZE artifact',
    'VACUUM ANALYZE artifact_collection',
    'VACUUM ANALYZE flow_run',
    'VACUUM ANALYZE task_run',
    'VACUUM ANALYZE flow',
    'VACUUM ANALYZE deployment',
  ];
}
