// Decoder throughput on typical ~1 KB events, one core:
//   npx ts-node -r tsconfig-paths/register --transpile-only libs/contracts/bench/decode.bench.ts
import { decodeMessage, encodeEvent, EncodedMessage, rawJson } from '@app/contracts';

function artifactMessage(i: number, mode: 'structured' | 'binary'): EncodedMessage {
  const id = `6f9619ff-8b86-4d01-b42d-${i.toString(16).padStart(12, '0')}`;
  return encodeEvent(
    'prefect.artifact.created',
    {
      id,
      key: `daily-report-${i % 100}`,
      type: 'table',
      description: 'Nightly summary of the ingestion pipeline, with per-source counts and error rates.',
      data: rawJson(
        `{"columns":["source","rows","errors","ratio"],"rows":[["kafka",${i},3,0.25],["s3",1.0,0,0.0],["api",123456789012345678901,17,1e-5]],"generated_by":"report-flow","note":"caf\u00e9 \\"quoted\\""}`,
      ),
      metadata_: { owner: 'ops', team: 'data-platform', run: String(i) },
      flow_run_id: '5c52ef97-c8ab-4c25-baf4-79ac226afe8e',
      task_run_id: null,
      created: '2024-06-01T10:00:01.123456Z',
      extra_field: 'ignored',
      padding: 'x'.repeat(300),
    } as never,
    { mode },
  );
}

function runMessage(i: number): EncodedMessage {
  return encodeEvent('prefect.flow-run.upserted', {
    id: `7d1e3c55-1a2b-4c3d-8e9f-${i.toString(16).padStart(12, '0')}`,
    flow_id: '0b6a4f0e-3c3e-4b8e-9d6f-0c2f7c1e2a11',
    deployment_id: null,
    name: `brave-otter-${i}`,
    tags: ['etl', 'nightly', 'team:data'],
    state: { type: 'COMPLETED', name: 'Completed' },
    state_type: 'COMPLETED',
    state_name: 'Completed',
    flow_version: '1.4.2',
    work_queue_name: 'default',
    parent_task_run_id: null,
    idempotency_key: `scheduled-${i}`,
    start_time: '2024-06-01T10:00:01.123456+00:00',
    end_time: '2024-06-01T10:05:01.654321+00:00',
    expected_start_time: '2024-06-01T10:00:00Z',
    next_scheduled_start_time: null,
    created_by: { id: null, type: 'SCHEDULE', display_value: 'every day' },
    created: '2024-06-01T09:59:00Z',
    updated: '2024-06-01T10:05:01.654321Z',
    parameters: { date: '2024-06-01', retries: 3 },
    empirical_policy: { retries: 0, retry_delay: 0 },
  } as never);
}

function bench(name: string, messages: EncodedMessage[], stream: 'artifacts' | 'runs', seconds = 3): void {
  for (const m of messages.slice(0, 2000)) if (!decodeMessage(m, stream).ok) throw new Error(`${name}: decode failed`);
  const bytes = messages.reduce((n, m) => n + m.value.length, 0) / messages.length;
  let count = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(seconds * 1e9);
  while (process.hrtime.bigint() < deadline) {
    for (const m of messages) decodeMessage(m, stream);
    count += messages.length;
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${name.padEnd(34)} ${Math.round(bytes)} B/event  ${Math.round(count / elapsed).toLocaleString('en-US')} events/s`);
}

const N = 5000;
bench('artifact.created, structured', Array.from({ length: N }, (_, i) => artifactMessage(i, 'structured')), 'artifacts');
bench('artifact.created, binary', Array.from({ length: N }, (_, i) => artifactMessage(i, 'binary')), 'artifacts');
bench('flow-run.upserted, structured', Array.from({ length: N }, (_, i) => runMessage(i)), 'runs');
