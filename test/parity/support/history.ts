import { randomUUID } from 'node:crypto';
import { LosslessNumber, parse as losslessParse, stringify as losslessStringify } from 'lossless-json';
import { ProducedEvent } from '../../support/conformance';
import { Random } from './random';

// A varied, seeded history created in the real Prefect server through its REST API,
// every object read back as Prefect stored it, and the same history as events of
// docs/events.md (same ids, same timestamps) for our ingest app.

type Obj = Record<string, unknown>;

/** What the request generator draws on: the values that make filters select something. */
export interface History {
  events: ProducedEvent[];
  flowIds: string[];
  deploymentIds: string[];
  flowRunIds: string[];
  taskRunIds: string[];
  /** Live artifact versions, and versions that were deleted. */
  artifactIds: string[];
  deletedArtifactIds: string[];
  /** Keys with a live version, and keys whose versions were all deleted. */
  keys: string[];
  deletedKeys: string[];
  names: string[];
  tags: string[];
  types: string[];
  stateNames: string[];
  workQueueNames: string[];
  flowVersions: string[];
  idempotencyKeys: string[];
  /** Every timestamp Prefect stored (created, updated, start, end...). */
  times: string[];
  versions: number;
}

export interface HistoryOptions {
  seed: number;
  /** Artifact operations (creates, updates, deletes); ~70% of them creates. */
  operations: number;
}

class PrefectApi {
  constructor(private readonly base: string) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; value: unknown }> {
    const response = await fetch(`${this.base}/api${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : losslessStringify(body),
    });
    const text = await response.text();
    return { status: response.status, value: text === '' ? null : losslessParse(text) };
  }

  async ok(method: string, path: string, body?: unknown): Promise<Obj> {
    const { status, value } = await this.call(method, path, body);
    if (status >= 300) throw new Error(`Prefect ${method} ${path} ${losslessStringify(body) ?? ''}: ${status} ${losslessStringify(value)}`);
    return value as Obj;
  }
}

const num = (text: string) => new LosslessNumber(text);

// Numbers whose text differs between JSON encoders (the class 1), and big ones.
const NUMBERS = [
  '1e-6', '1E-7', '-1e-7', '1e-5', '0.0001', '1e16', '1e15', '1.5e300', '12345678901234567890123', '1.0', '100.0', '0.1',
  '0.30000000000000004', '3.14159', '2.5E+10', '1e-300', '5e-324', '1.7976931348623157e308', '-42', '0', '-0.0', '1e21',
  '9007199254740993', '-9223372036854775808', '18446744073709551616', '123456.789', '1e2', '0.000123', '7',
];
const WORDS = ['sales', 'report', 'churn', 'daily', 'etl', 'model', 'score', 'ünïcödé', '数据', 'Ωmega', '🚀', 'naïve café', 'x', 'a_b', '50%', 'O\'Brien', 'tab\tsep', 'line\nbreak', '"quoted"', 'back\\slash'];
const TYPES = ['markdown', 'table', 'link', 'progress', 'image', 'result', 'Custom-Type', 'ünïcode', ''];
const STATES: [string, string][] = [
  ['SCHEDULED', 'Scheduled'], ['SCHEDULED', 'Late'], ['SCHEDULED', 'AwaitingRetry'], ['PENDING', 'Pending'], ['RUNNING', 'Running'],
  ['RUNNING', 'Retrying'], ['COMPLETED', 'Completed'], ['COMPLETED', 'Cached'], ['FAILED', 'Failed'], ['CANCELLED', 'Cancelled'],
  ['CRASHED', 'Crashed'], ['PAUSED', 'Paused'], ['PAUSED', 'Suspended'], ['CANCELLING', 'Cancelling'], ['COMPLETED', 'Fertig ✓'],
];

function keyPool(random: Random): string[] {
  const keys = new Set<string>(['sales-report', 'k', 'a-b-c', '2024', 'churn-table', 'x'.repeat(100), 'y'.repeat(101), `long-${'k'.repeat(145)}`, `very-long-${'z'.repeat(285)}`, '-lead', 'trail-', 'a--b', '0']);
  const parts = ['sales', 'report', 'churn', 'daily', 'etl', 'model', 'score', 'table', 'progress', 'img', 'result', 'v2', 'eu', 'us'];
  while (keys.size < 40) keys.add(random.some(parts, random.int(1, 3)).join('-') + (random.chance(0.3) ? `-${random.int(0, 99)}` : ''));
  return [...keys];
}

function text(random: Random): string {
  return random.some(WORDS, random.int(1, 4)).join(' ');
}

function nested(random: Random, depth: number): unknown {
  const r = random.next();
  if (depth <= 0 || r < 0.35) return random.chance(0.5) ? num(random.pick(NUMBERS)) : random.pick([text(random), true, false, null, '', '1e-7']);
  if (r < 0.65) return Array.from({ length: random.int(0, 4) }, () => nested(random, depth - 1));
  const out: Obj = {};
  for (let i = random.int(0, 4); i > 0; i--) out[random.pick(['a', 'b', 'value', 'ünï', 'nested', '数', 'x y', 'n'])] = nested(random, depth - 1);
  return out;
}

function artifactData(random: Random, type: string | null): unknown {
  switch (type) {
    case 'markdown':
      return `# ${text(random)}\n\n| a | b |\n|---|---|\n| ${random.pick(NUMBERS)} | ${text(random)} |`;
    case 'table':
      return random.pick([
        () => Array.from({ length: random.int(0, 4) }, () => ({ customer: text(random), churn: num(random.pick(NUMBERS)), ok: random.chance(0.5) })),
        () => ({ customer: [text(random), text(random)], churn: [num(random.pick(NUMBERS)), num(random.pick(NUMBERS))] }),
        () => JSON.stringify([{ a: 1, b: 'x' }]),
      ])();
    case 'link':
      return `https://example.com/${random.int(1, 999)}?q=${encodeURIComponent(text(random))}`;
    case 'progress':
      return num(random.pick(['0', '12.5', '100.0', '99.99999', '1e-6', '1E-7', '50', '33.333333333333336']));
    case 'image':
      return `https://example.com/img/${random.int(1, 99)}.png`;
    case 'result':
      return random.chance(0.5) ? JSON.stringify({ storage_key: `/tmp/${random.int(1, 99)}`, serializer: { type: 'json' } }) : nested(random, 3);
    default:
      return nested(random, 4);
  }
}

function metadata(random: Random): unknown {
  const r = random.next();
  if (r < 0.3) return null;
  if (r < 0.4) return {};
  const out: Obj = {};
  for (let i = random.int(1, 4); i > 0; i--) {
    out[random.pick(['team', 'owner', 'ünïcode', 'rows', 'x', 'long', '数'])] = random.chance(0.1) ? 'v'.repeat(random.int(499, 620)) : text(random);
  }
  return out;
}

function description(random: Random): string | null {
  return random.pick([null, '', text(random), `## ${text(random)}\n\n${text(random)}`, 'd'.repeat(random.int(200, 2000))]);
}

export async function buildHistory(prefectUrl: string, options: HistoryOptions): Promise<History> {
  const random = new Random(options.seed);
  const api = new PrefectApi(prefectUrl);
  const events: ProducedEvent[] = [];
  const emit = (topic: ProducedEvent['topic'], type: string, key: string, time: string, data: Obj) =>
    events.push({ topic, key, cloudEvent: { specversion: '1.0', id: randomUUID(), source: '/parity/prefect', type, time, subject: String(data.id), data } });
  const pick = (o: Obj, fields: string[]) => Object.fromEntries(fields.map((f) => [f, o[f] ?? null]));
  const h: History = {
    events, flowIds: [], deploymentIds: [], flowRunIds: [], taskRunIds: [], artifactIds: [], deletedArtifactIds: [], keys: [], deletedKeys: [],
    names: [], tags: [], types: TYPES, stateNames: STATES.map(([, n]) => n), workQueueNames: [], flowVersions: [], idempotencyKeys: [], times: [], versions: 0,
  };
  const seen = (...values: unknown[]) => {
    for (const v of values) if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) h.times.push(v);
  };
  const tagPool = ['prod', 'dev', 'eu', 'ünï', 'nightly', 'a b', 'team:data', ''];
  const tags = () => [...new Set(random.some(tagPool, random.int(0, 3)))];

  // Flows and deployments.
  for (let i = 0; i < 6; i++) {
    const flow = await api.ok('POST', '/flows/', { name: `${random.pick(['etl', 'report', 'ünïcode flow', 'train', 'sync'])}-${i}`, tags: tags() });
    h.flowIds.push(String(flow.id));
  }
  for (let i = 0; i < 5; i++) {
    const body: Obj = { name: `${random.pick(['nightly', 'hourly', 'déploiement', 'adhoc'])}-${i}`, flow_id: random.pick(h.flowIds), tags: tags(), paused: random.chance(0.4) };
    if (random.chance(0.6)) body.work_queue_name = random.pick(['default', 'gpu', 'queue-ü']);
    if (i === 0) body.concurrency_limit = 3;
    const deployment = await api.ok('POST', '/deployments/', body);
    h.deploymentIds.push(String(deployment.id));
  }

  // Flow runs and task runs, driven through states with force.
  const setStates = async (kind: 'flow_runs' | 'task_runs', id: string) => {
    for (let n = random.int(0, 4); n > 0; n--) {
      const [type, name] = random.pick(STATES);
      const state: Obj = { type, name };
      if (type === 'SCHEDULED') state.state_details = { scheduled_time: new Date(Date.now() + random.int(-3600, 3600) * 1000).toISOString() };
      await api.ok('POST', `/${kind}/${id}/set_state`, { state, force: true });
    }
  };
  for (let i = 0; i < 24; i++) {
    const body: Obj = { flow_id: random.pick(h.flowIds), name: `${random.pick(['brave', 'calm', 'ünï', 'swift'])}-${random.pick(['otter', 'lynx', '猫'])}-${i}`, tags: tags() };
    if (random.chance(0.5)) body.deployment_id = random.pick(h.deploymentIds);
    if (random.chance(0.4)) body.flow_version = random.pick(['1.0', 'v2', 'abc123', 'ünï']);
    if (random.chance(0.3)) body.idempotency_key = `idem-${random.int(1, 9999)}`;
    if (random.chance(0.4)) body.work_queue_name = random.pick(['default', 'gpu', 'queue-ü']);
    if (random.chance(0.3) && h.taskRunIds.length > 0) body.parent_task_run_id = random.pick(h.taskRunIds);
    if (random.chance(0.2)) body.state = { type: random.pick(STATES)[0] };
    const run = await api.ok('POST', '/flow_runs/', body);
    h.flowRunIds.push(String(run.id));
    await setStates('flow_runs', String(run.id));
    for (let t = random.int(0, 3); t > 0; t--) {
      const task = await api.ok('POST', '/task_runs/', {
        flow_run_id: random.chance(0.9) ? run.id : null,
        task_key: `task-${random.int(1, 9)}`,
        dynamic_key: String(random.int(0, 99)),
        name: `${random.pick(['load', 'transform', 'sauvegardé', 'emit'])}-${t}`,
        tags: tags(),
      });
      h.taskRunIds.push(String(task.id));
      await setStates('task_runs', String(task.id));
    }
  }

  // Artifacts: creates, updates (of the latest and of older versions) and deletes.
  const keys = keyPool(random);
  const live = new Map<string, Obj>(); // id -> the version as Prefect stored it
  const latestOf = (key: string) => [...live.values()].filter((a) => a.key === key).sort((a, b) => String(b.created).localeCompare(String(a.created)))[0];
  for (let op = 0; op < options.operations; op++) {
    const r = random.next();
    if (r < 0.72 || live.size < 5) {
      const type = random.chance(0.1) ? null : random.pick(TYPES);
      const body: Obj = { type, data: artifactData(random, type), description: description(random), metadata_: metadata(random) };
      if (random.chance(0.8)) body.key = random.pick(keys);
      const fr = random.next();
      body.flow_run_id = fr < 0.6 ? random.pick(h.flowRunIds) : fr < 0.7 ? random.uuid() : null;
      const tr = random.next();
      body.task_run_id = tr < 0.4 && h.taskRunIds.length > 0 ? random.pick(h.taskRunIds) : tr < 0.45 ? random.uuid() : null;
      const artifact = await api.ok('POST', '/artifacts/', body);
      live.set(String(artifact.id), artifact);
      h.versions++;
      seen(artifact.created, artifact.updated);
      emit('artifacts', 'prefect.artifact.created', String(artifact.key ?? artifact.id), String(artifact.created), pick(artifact, ['id', 'key', 'type', 'description', 'data', 'metadata_', 'flow_run_id', 'task_run_id', 'created', 'updated']));
    } else if (r < 0.86) {
      const target = random.chance(0.5) ? [...live.values()].find((a) => a.key !== null && latestOf(String(a.key)) === a) : undefined;
      const version = target ?? random.pick([...live.values()]);
      const patch: Obj = {};
      if (random.chance(0.5)) patch.data = random.chance(0.1) ? null : artifactData(random, version.type as string | null);
      if (random.chance(0.4)) patch.description = description(random);
      if (random.chance(0.3)) patch.metadata_ = metadata(random);
      const { status } = await api.call('PATCH', `/artifacts/${String(version.id)}`, patch);
      if (status !== 204) throw new Error(`Prefect PATCH /artifacts/${String(version.id)}: ${status}`);
      const after = await api.ok('GET', `/artifacts/${String(version.id)}`);
      live.set(String(after.id), after);
      seen(after.updated);
      const data: Obj = { id: after.id, updated: after.updated };
      if (after.key !== null) data.key = after.key;
      for (const field of Object.keys(patch)) data[field] = after[field];
      emit('artifacts', 'prefect.artifact.updated', String(after.key ?? after.id), String(after.updated), data);
    } else {
      const keyed = [...live.values()].filter((a) => a.key !== null);
      const r2 = random.next();
      const version = r2 < 0.5 && keyed.length > 0 ? latestOf(String(random.pick(keyed).key))! : random.pick([...live.values()]);
      const { status } = await api.call('DELETE', `/artifacts/${String(version.id)}`);
      if (status !== 204) throw new Error(`Prefect DELETE /artifacts/${String(version.id)}: ${status}`);
      live.delete(String(version.id));
      h.deletedArtifactIds.push(String(version.id));
      const at = new Date().toISOString();
      const data: Obj = { id: version.id, updated: at };
      if (version.key !== null) data.key = version.key;
      emit('artifacts', 'prefect.artifact.deleted', String(version.key ?? version.id), at, data);
    }
  }

  // One flow run deleted, with the task runs Prefect deletes along with it.
  const doomed = random.pick(h.flowRunIds);
  const doomedTasks = (await api.ok('POST', '/task_runs/filter', { flow_runs: { id: { any_: [doomed] } } })) as unknown as Obj[];
  const snapshots = new Map<string, { type: string; data: Obj }>();
  const runFields = ['id', 'flow_id', 'deployment_id', 'name', 'tags', 'state_type', 'state_name', 'flow_version', 'work_queue_name', 'parent_task_run_id', 'idempotency_key', 'start_time', 'end_time', 'expected_start_time', 'next_scheduled_start_time', 'created_by', 'created', 'updated'];
  const taskFields = ['id', 'flow_run_id', 'name', 'tags', 'task_key', 'dynamic_key', 'state_type', 'state_name', 'start_time', 'end_time', 'expected_start_time', 'created', 'updated'];
  snapshots.set(doomed, { type: 'flow-run', data: pick(await api.ok('GET', `/flow_runs/${doomed}`), runFields) });
  for (const t of doomedTasks) snapshots.set(String(t.id), { type: 'task-run', data: pick(t, taskFields) });
  const { status } = await api.call('DELETE', `/flow_runs/${doomed}`);
  if (status !== 204) throw new Error(`Prefect DELETE /flow_runs/${doomed}: ${status}`);

  // Read back every run, flow and deployment as Prefect stored it now.
  const upsert = (type: string, data: Obj) => {
    seen(data.created, data.updated, data.start_time, data.end_time, data.expected_start_time, data.next_scheduled_start_time);
    emit('runs', `prefect.${type}.upserted`, String(data.id), String(data.updated ?? data.created), data);
  };
  for (const id of h.flowIds) {
    const flow = await api.ok('GET', `/flows/${id}`);
    h.names.push(String(flow.name));
    h.tags.push(...(flow.tags as string[]));
    upsert('flow', pick(flow, ['id', 'name', 'tags', 'created', 'updated']));
  }
  for (const id of h.deploymentIds) {
    const d = await api.ok('GET', `/deployments/${id}`);
    h.names.push(String(d.name));
    h.tags.push(...(d.tags as string[]));
    if (typeof d.work_queue_name === 'string') h.workQueueNames.push(d.work_queue_name);
    upsert('deployment', pick(d, ['id', 'flow_id', 'name', 'tags', 'work_queue_name', 'paused', 'concurrency_limit', 'created', 'updated']));
  }
  // Deleted are the snapshotted runs Prefect no longer has (the flow run, and whatever it took along).
  const gone = new Set<string>();
  for (const id of h.flowRunIds) {
    const got = await api.call('GET', `/flow_runs/${id}`);
    if (got.status !== 200) gone.add(id);
    const run = got.status === 200 ? pick(got.value as Obj, runFields) : snapshots.get(id)!.data;
    h.names.push(String(run.name));
    h.tags.push(...(run.tags as string[]));
    for (const [list, field] of [[h.workQueueNames, 'work_queue_name'], [h.flowVersions, 'flow_version'], [h.idempotencyKeys, 'idempotency_key']] as const) {
      if (typeof run[field] === 'string') list.push(run[field] as string);
    }
    upsert('flow-run', run);
  }
  for (const id of h.taskRunIds) {
    const got = await api.call('GET', `/task_runs/${id}`);
    if (got.status !== 200) gone.add(id);
    const task = got.status === 200 ? pick(got.value as Obj, taskFields) : snapshots.get(id)?.data;
    if (!task) throw new Error(`task run ${id} is gone from Prefect and was not snapshotted`);
    h.names.push(String(task.name));
    h.tags.push(...(task.tags as string[]));
    upsert('task-run', task);
  }
  const deletedAt = new Date().toISOString();
  for (const [id, { type }] of snapshots) if (gone.has(id)) emit('runs', `prefect.${type}.deleted`, id, deletedAt, { id, updated: deletedAt });

  h.artifactIds = [...live.keys()];
  h.keys = [...new Set([...live.values()].map((a) => a.key).filter((k): k is string => typeof k === 'string'))];
  h.deletedKeys = keys.filter((k) => !h.keys.includes(k));
  for (const list of ['names', 'tags', 'workQueueNames', 'flowVersions', 'idempotencyKeys', 'times'] as const) h[list] = [...new Set(h[list])].sort();
  return h;
}
