import { createHash } from 'node:crypto';

export interface DemoEvent {
  topic: 'artifacts' | 'runs';
  key: string;
  type: string;
  time: string;
  data: Record<string, unknown>;
}

// Deterministic ids, so publishing the demo twice changes nothing (events are idempotent on their ids).
function uuid(seed: string): string {
  const h = createHash('sha1').update(`demo:${seed}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const STATES: [string, string][] = [
  ['COMPLETED', 'Completed'],
  ['COMPLETED', 'Completed'],
  ['FAILED', 'Failed'],
  ['RUNNING', 'Running'],
  ['SCHEDULED', 'Scheduled'],
  ['CANCELLED', 'Cancelled'],
  ['CRASHED', 'Crashed'],
];

/** A realistic small data set: flows, deployments, runs in various states, ~100 artifact versions over 15 keys. */
export function demoEvents(now = Date.parse('2026-11-01T08:00:00Z')): DemoEvent[] {
  const events: DemoEvent[] = [];
  let clock = now;
  const tick = (ms = 60_000) => new Date((clock += ms)).toISOString();
  const flows = ['etl-nightly', 'ml-training', 'reporting'].map((name) => ({ id: uuid(`flow:${name}`), name }));
  for (const flow of flows) {
    const time = tick();
    events.push({ topic: 'runs', key: flow.id, type: 'prefect.flow.upserted', time, data: { id: flow.id, name: flow.name, tags: ['demo', flow.name.split('-')[0]], created: time, updated: time } });
  }
  const deployments = flows.flatMap((flow, i) =>
    (i === 2 ? ['weekly'] : ['prod', 'staging']).map((env) => ({ id: uuid(`deployment:${flow.name}:${env}`), flow, name: `${flow.name}-${env}`, env })),
  );
  for (const d of deployments) {
    const time = tick();
    events.push({
      topic: 'runs',
      key: d.id,
      type: 'prefect.deployment.upserted',
      time,
      data: { id: d.id, flow_id: d.flow.id, name: d.name, tags: [d.env], work_queue_name: d.env === 'prod' ? 'default' : d.env, paused: d.env === 'staging', concurrency_limit: null, created: time, updated: time },
    });
  }
  const flowRuns: { id: string; flowIndex: number }[] = [];
  const taskRuns: { id: string; flowRunId: string }[] = [];
  for (let i = 0; i < 36; i++) {
    const deployment = deployments[i % deployments.length]!;
    const [stateType, stateName] = STATES[i % STATES.length]!;
    const id = uuid(`flow-run:${i}`);
    const created = tick(90_000);
    const start = stateType === 'SCHEDULED' ? null : created;
    const end = stateType === 'COMPLETED' || stateType === 'FAILED' || stateType === 'CRASHED' || stateType === 'CANCELLED' ? tick(30_000) : null;
    flowRuns.push({ id, flowIndex: flows.indexOf(deployment.flow) });
    events.push({
      topic: 'runs',
      key: id,
      type: 'prefect.flow-run.upserted',
      time: end ?? created,
      data: {
        id,
        flow_id: deployment.flow.id,
        deployment_id: i % 9 === 8 ? null : deployment.id,
        name: `${['brave', 'quiet', 'rapid', 'amber', 'crimson', 'lucky'][i % 6]}-${['otter', 'falcon', 'lynx', 'heron'][i % 4]}-${i}`,
        tags: i % 3 === 0 ? ['demo', 'backfill'] : ['demo'],
        state: { type: stateType, name: stateName },
        flow_version: `1.${i % 4}`,
        work_queue_name: deployment.env === 'prod' ? 'default' : deployment.env,
        parent_task_run_id: null,
        idempotency_key: `demo-${i}`,
        start_time: start,
        end_time: end,
        expected_start_time: created,
        next_scheduled_start_time: stateType === 'SCHEDULED' ? tick(3_600_000) : null,
        created_by: { id: deployment.id, type: 'DEPLOYMENT', display_value: deployment.name },
        created,
        updated: end ?? created,
      },
    });
    const taskRunId = uuid(`task-run:${i}`);
    taskRuns.push({ id: taskRunId, flowRunId: id });
    events.push({
      topic: 'runs',
      key: taskRunId,
      type: 'prefect.task-run.upserted',
      time: end ?? created,
      data: {
        id: taskRunId,
        flow_run_id: id,
        name: `publish-report-${i}`,
        tags: ['demo'],
        task_key: 'publish_report',
        dynamic_key: String(i),
        state_type: stateType,
        state_name: stateName,
        start_time: start,
        end_time: end,
        expected_start_time: created,
        created,
        updated: end ?? created,
      },
    });
  }
  const keys: [string, string][] = [
    ['nightly-sales-report', 'markdown'],
    ['customer-churn-table', 'table'],
    ['model-accuracy', 'table'],
    ['dashboard-link', 'link'],
    ['etl-progress', 'progress'],
    ['training-progress', 'progress'],
    ['daily-summary', 'markdown'],
    ['inventory-snapshot', 'table'],
    ['data-quality-checks', 'markdown'],
    ['feature-importance', 'table'],
    ['warehouse-docs', 'link'],
    ['pipeline-result', 'result'],
    ['forecast-result', 'result'],
    ['weekly-kpis', 'markdown'],
    ['backfill-progress', 'progress'],
  ];
  for (let version = 0; version < 7; version++) {
    for (const [k, [key, type]] of keys.entries()) {
      if (version >= 5 && k % 3 !== 0) continue;
      const run = flowRuns[(version * keys.length + k) % flowRuns.length]!;
      const taskRun = taskRuns.find((t) => t.flowRunId === run.id)!;
      const id = uuid(`artifact:${key}:${version}`);
      const created = tick(45_000);
      events.push({
        topic: 'artifacts',
        key,
        type: 'prefect.artifact.created',
        time: created,
        data: { id, key, type, description: `${key.replace(/-/g, ' ')}, version ${version + 1}`, data: demoData(type, key, version), metadata_: { owner: ['data-eng', 'ml', 'analytics'][k % 3]!, version: String(version + 1) }, flow_run_id: run.id, task_run_id: taskRun.id, created, updated: created },
      });
    }
  }
  for (let i = 0; i < 5; i++) {
    const id = uuid(`artifact:keyless:${i}`);
    const created = tick(30_000);
    events.push({ topic: 'artifacts', key: id, type: 'prefect.artifact.created', time: created, data: { id, key: null, type: 'result', description: null, data: { rows: 100 * (i + 1), ok: true }, metadata_: null, flow_run_id: flowRuns[i]!.id, task_run_id: null, created, updated: created } });
  }
  // An edit of a latest version, and a delete that makes a key fall back to its previous version.
  const edited = uuid('artifact:model-accuracy:4');
  const updated = tick();
  events.push({ topic: 'artifacts', key: 'model-accuracy', type: 'prefect.artifact.updated', time: updated, data: { id: edited, key: 'model-accuracy', updated, description: 'model accuracy, version 5 (edited)' } });
  const removed = uuid('artifact:nightly-sales-report:6');
  const deleted = tick();
  events.push({ topic: 'artifacts', key: 'nightly-sales-report', type: 'prefect.artifact.deleted', time: deleted, data: { id: removed, key: 'nightly-sales-report', updated: deleted } });
  return events;
}

function demoData(type: string, key: string, version: number): unknown {
  switch (type) {
    case 'markdown':
      return `# ${key.replace(/-/g, ' ')}\n\nVersion **${version + 1}**.\n\n| metric | value |\n|---|---|\n| rows | ${1000 + version * 37} |\n| errors | ${version % 3} |\n`;
    case 'table':
      return version % 2 === 0
        ? [{ name: 'alpha', score: 0.91 - version / 100, rows: 120 + version }, { name: 'beta', score: 0.84, rows: 98 }, { name: 'gamma', score: 0.77, rows: 143 }]
        : { name: ['alpha', 'beta', 'gamma'], score: [0.9, 0.85, 0.8], rows: [121, 99, 140 + version] };
    case 'link':
      return `https://example.com/${key}/v${version + 1}`;
    case 'progress':
      return Math.min(100, 20 * (version + 1));
    default:
      return { status: version % 4 === 3 ? 'failed' : 'ok', rows_written: 1000 * (version + 1), checksum: `sha256:${createHash('sha256').update(key + version).digest('hex').slice(0, 16)}` };
  }
}
