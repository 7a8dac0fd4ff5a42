// --peer prefect: Prefect's own server beside ours, on the same PostgreSQL server, holding
// the same rows (copied from our read model into the schema Prefect's migrations made),
// answering the same query mix: both bodies compared, then both measured alike.
import { pipeline } from 'node:stream/promises';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { PREFECT_VERSION, startPrefectServer } from '../infra/local/prefect';
import { id, Scale } from './dataset';
import { http, post, QueryCase, QueryFigures, queryMix } from './queries';
import { round } from './stats';

/** Our read-model columns as Prefect's tables take them (tags: text[] here, a JSON list there). */
const LOADS: { table: string; columns: string; select: string }[] = [
  { table: 'flow', columns: 'id, created, updated, name, tags', select: 'id, coalesce(created, updated), updated, name, to_jsonb(tags)' },
  {
    table: 'deployment',
    columns: 'id, created, updated, flow_id, name, tags, work_queue_name, paused, concurrency_limit',
    select: 'id, coalesce(created, updated), updated, flow_id, name, to_jsonb(tags), work_queue_name, paused, concurrency_limit',
  },
  {
    table: 'flow_run',
    columns:
      'id, created, updated, flow_id, deployment_id, name, tags, state_type, state_name, flow_version, work_queue_name, parent_task_run_id, idempotency_key, start_time, end_time, expected_start_time, next_scheduled_start_time, created_by',
    select:
      'id, coalesce(created, updated), updated, flow_id, deployment_id, name, to_jsonb(tags), state_type, state_name, flow_version, work_queue_name, parent_task_run_id, idempotency_key, start_time, end_time, expected_start_time, next_scheduled_start_time, created_by',
  },
  {
    table: 'task_run',
    columns: 'id, created, updated, flow_run_id, name, tags, task_key, dynamic_key, state_type, state_name, start_time, end_time, expected_start_time',
    select: "id, coalesce(created, updated), updated, flow_run_id, name, to_jsonb(tags), coalesce(task_key, ''), coalesce(dynamic_key, ''), state_type, state_name, start_time, end_time, expected_start_time",
  },
  { table: 'artifact', columns: 'id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id', select: 'id, created, updated, key, type, description, data, metadata_, flow_run_id, task_run_id' },
  {
    table: 'artifact_collection',
    columns: 'id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id',
    select: 'id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id',
  },
];

/** COPY of our rows into Prefect's tables (its foreign keys unchecked: the rows are whole), then VACUUM ANALYZE. */
async function load(ourUrl: string, prefectUrl: string): Promise<{ rows: number; seconds: number }> {
  const source = new Client({ connectionString: ourUrl });
  const target = new Client({ connectionString: prefectUrl });
  await Promise.all([source.connect(), target.connect()]);
  const started = Date.now();
  let rows = 0;
  try {
    await source.query("SET timezone = 'UTC'");
    await target.query("SET timezone = 'UTC'");
    await target.query('SET session_replication_role = replica');
    await target.query('BEGIN');
    for (const { table, columns, select } of LOADS) {
      await pipeline(source.query(copyTo(`COPY (SELECT ${select} FROM ${table}) TO STDOUT`)), target.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`)));
      rows += Number((await target.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    }
    await target.query('COMMIT');
    await target.query('VACUUM ANALYZE');
  } finally {
    await Promise.all([source.end(), target.end()]);
  }
  return { rows, seconds: (Date.now() - started) / 1000 };
}

/** Prefect orders a key's versions arbitrarily under KEY_* sorts: compare them by (key, id). */
function byKeyThenId(text: string): string {
  const rows = JSON.parse(text) as { key: string; id: string }[];
  return JSON.stringify(rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
}

export interface Comparison {
  name: string;
  identical: boolean;
  status: string;
  bytes: number;
  /** Where the bodies first differ, when they do. */
  difference?: { at: number; prefect: string; ours: string };
}

async function compare(prefectUrl: string, ourUrl: string, c: QueryCase): Promise<Comparison> {
  const [p, o] = await Promise.all([post(prefectUrl, c.path, c.body), post(ourUrl, c.path, c.body)]);
  const [pt, ot] = c.keyTies && p.status === 200 && o.status === 200 ? [byKeyThenId(p.text), byKeyThenId(o.text)] : [p.text, o.text];
  const identical = p.status === o.status && pt === ot;
  const out: Comparison = { name: c.name, identical, status: `${p.status}/${o.status}`, bytes: o.text.length };
  if (!identical) {
    let at = 0;
    while (at < pt.length && pt[at] === ot[at]) at++;
    out.difference = { at, prefect: pt.slice(Math.max(0, at - 60), at + 100), ours: ot.slice(Math.max(0, at - 60), at + 100) };
  }
  return out;
}

/**
 * Prefect's write path: POST /api/artifacts/ with 10 connections, each a new key's first version of a run's artifact.
 * With `requests` (--quick) the window is that many requests, so it cannot end before one is answered.
 */
async function prefectWrites(url: string, scale: Scale, seconds: number, requests?: number): Promise<{ artifacts_per_second: number; p50_ms: number; errors: number }> {
  let n = 0;
  const instance = autocannon({
    url: `${url}/api/artifacts/`,
    connections: 10,
    ...(requests === undefined ? { duration: seconds } : { amount: requests }),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          n++;
          const body = { key: `peer-write-${n}`, type: 'markdown', description: `write ${n}`, data: `# Report ${n}`, metadata_: { owner: 'bench' }, flow_run_id: id('flow-run', n % scale.runs), task_run_id: id('task-run', n % scale.taskRuns) };
          return { ...request, body: JSON.stringify(body) };
        },
      },
    ],
  });
  const result = await instance;
  // autocannon counts its duration in hundredths of a second.
  return { artifacts_per_second: round(result['2xx'] / Math.max(result.duration, 0.01), 1), p50_ms: result.latency.p50, errors: result.errors + result.non2xx };
}

export interface PeerFigures {
  name: 'prefect';
  version: string;
  server: string;
  size: number;
  load: { rows: number; seconds: number };
  /** Every query of the mix, both bodies compared before any measurement. */
  answers: { identical: number; of: number; comparisons: Comparison[] };
  queries: {
    name: string;
    selectivity: QueryFigures['selectivity'];
    prefect: { rps: number; p50_ms: number; p99_ms: number; errors: number };
    ours: { rps: number; p50_ms: number; p99_ms: number };
    /** Ours over Prefect's rps, Prefect's over our p50; null when a side answered nothing in its window. */
    rps_ratio: number | null;
    p50_ratio: number | null;
  }[];
  writes: { prefect_post_artifacts_per_second: number; prefect_post_p50_ms: number; prefect_post_errors: number; ours_ingest_events_per_second?: number };
}

export async function comparePeer(options: { serverUrl: string; ourDatabaseUrl: string; queryUrl: string; scale: Scale; size: number; ours: QueryFigures[]; log: (line: string) => void }): Promise<PeerFigures> {
  const { scale, size, log } = options;
  log(`starting Prefect ${PREFECT_VERSION} (its migrations on a fresh database)...`);
  const prefect = await startPrefectServer(options.serverUrl, 'bench');
  try {
    const loaded = await load(options.ourDatabaseUrl, prefect.databaseUrl);
    log(`Prefect: ${loaded.rows} rows copied in ${loaded.seconds.toFixed(1)} s`);
    const mix = queryMix(scale, size);
    const comparisons: Comparison[] = [];
    for (const c of mix) comparisons.push(await compare(prefect.url, options.queryUrl, c));
    const identical = comparisons.filter((c) => c.identical).length;
    log(`answers identical for ${identical} of ${comparisons.length} queries${identical < comparisons.length ? `: differ ${comparisons.filter((c) => !c.identical).map((c) => c.name).join(', ')}` : ''}`);
    const seconds = scale.peerDurationSeconds;
    const queries: PeerFigures['queries'] = [];
    for (const [i, c] of mix.entries()) {
      const ours = options.ours[i]!;
      const { rows: _rows, ...p } = await http(prefect.url, c, seconds, scale.warmupSeconds);
      queries.push({
        name: c.name,
        selectivity: ours.selectivity,
        prefect: p,
        ours: { rps: ours.http.rps, p50_ms: ours.http.p50_ms, p99_ms: ours.http.p99_ms },
        rps_ratio: p.rps > 0 ? round(ours.http.rps / p.rps, 1) : null,
        p50_ratio: p.rps > 0 && ours.http.rps > 0 ? round(p.p50_ms / ours.http.p50_ms, 1) : null,
      });
      log(`  ${c.name.padEnd(26)} Prefect ${p.rps} rps p50 ${p.p50_ms} ms p99 ${p.p99_ms} ms | ours ${ours.http.rps} rps p50 ${ours.http.p50_ms} ms | ${queries[i]!.rps_ratio ?? '-'}x`);
    }
    const writes = await prefectWrites(prefect.url, scale, seconds, scale.queryRequests);
    log(`Prefect POST /api/artifacts/: ${writes.artifacts_per_second} artifacts/s (p50 ${writes.p50_ms} ms, errors ${writes.errors})`);
    return {
      name: 'prefect',
      version: PREFECT_VERSION,
      server: 'prefect server start, one uvicorn worker, services and UI off',
      size,
      load: { rows: loaded.rows, seconds: round(loaded.seconds, 2) },
      answers: { identical, of: comparisons.length, comparisons },
      queries,
      writes: { prefect_post_artifacts_per_second: writes.artifacts_per_second, prefect_post_p50_ms: writes.p50_ms, prefect_post_errors: writes.errors },
    };
  } finally {
    await prefect.stop();
  }
}
