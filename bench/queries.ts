import autocannon from 'autocannon';
import { Client, Pool } from 'pg';
import {
  ArtifactQueryFilters,
  ArtifactTable,
  countStatement,
  CountArtifactsBody,
  CountLatestArtifactsBody,
  listRequest,
  listStatement,
  ReadArtifactsBody,
  ReadLatestArtifactsBody,
  TAG_STATISTICS,
  TagStatistics,
  tagStatisticsOf,
} from '@app/filters';
import type { SqlStatement } from '@app/persistence';
import { id, keyOf, Scale } from './dataset';
import { percentile, round } from './stats';

export interface QueryCase {
  name: string;
  path: string;
  body: unknown;
  /** Whether an index serves it (deep offset is linear by nature). */
  indexed: boolean;
  /** A versions page sorted by key alone: Prefect orders a key's versions arbitrarily (docs/api.md §6). */
  keyTies?: boolean;
}

const LATEST = '/api/artifacts/latest/filter';
const LATEST_COUNT = '/api/artifacts/latest/count';
const VERSIONS = '/api/artifacts/filter';
const VERSIONS_COUNT = '/api/artifacts/count';

/**
 * The mix: the UI's default list-and-count pair first, then what users filter by. The
 * deployment, flow and state probes each target what owns 1/20, 1/5 and 1/2 of the flow
 * runs (bench/dataset.ts SHARES); each probe's selectivity is measured, not assumed.
 */
export function queryMix(scale: Scale, size: number): QueryCase[] {
  const keys = Math.max(1, Math.floor(scale.versions / 10));
  const key = keyOf(123 % keys);
  const offset = Math.min(10_000, Math.floor(Math.min(keys, size) * 0.6));
  const shares = ['1_2', '1_5', '1_20'] as const;
  const states = ['COMPLETED', 'FAILED', 'RUNNING'];
  const latest = (name: string, body: unknown, indexed = true): QueryCase => ({ name, path: LATEST, body, indexed });
  return [
    latest('ui_list', { sort: 'ID_DESC', limit: 200, artifacts: { key: { exists_: true } } }),
    { name: 'ui_count', path: LATEST_COUNT, body: { artifacts: { key: { exists_: true } } }, indexed: true },
    latest('ui_list_type', { sort: 'ID_DESC', limit: 200, artifacts: { key: { exists_: true }, type: { any_: ['markdown'] } } }),
    { name: 'ui_count_type', path: LATEST_COUNT, body: { artifacts: { key: { exists_: true }, type: { any_: ['markdown'] } } }, indexed: true },
    latest('key_any', { artifacts: { key: { any_: [key] } } }),
    latest('key_like', { artifacts: { key: { like_: '00012' } }, limit: 50 }),
    latest('flow_run_id_any', { artifacts: { flow_run_id: { any_: [id('flow-run', 5)] } } }),
    ...shares.map((share, i) => latest(`deployment_${share}`, { deployments: { id: { any_: [id('deployment', i)] } }, limit: 200 })),
    ...shares.map((share, i) => latest(`flow_${share}`, { flows: { id: { any_: [id('flow', i)] } }, limit: 200 })),
    ...shares.map((share, i) => latest(`state_${share}`, { flow_runs: { state: { type: { any_: [states[i]] } } }, limit: 200 })),
    { name: 'deployment_1_2_count', path: LATEST_COUNT, body: { deployments: { id: { any_: [id('deployment', 0)] } } }, indexed: true },
    { name: 'state_1_2_count', path: LATEST_COUNT, body: { flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }, indexed: true },
    latest('flow_run_tag', { flow_runs: { tags: { all_: ['nightly'] } }, limit: 200 }),
    latest('flow_tag', { flows: { tags: { all_: ['team-2'] } }, limit: 200 }),
    // A flow tag on 2.5% of the keys: read from the copies' GIN index while its matches are fewer than the rows a walk in id order reads.
    latest('flow_tag_rare', { flows: { tags: { all_: ['team-9'] } }, limit: 200 }),
    latest('or_state_tag', { flow_runs: { operator: 'or_', state: { type: { any_: ['FAILED'] } }, tags: { all_: ['nightly'] } }, limit: 200 }),
    latest('or_type_key', { artifacts: { operator: 'or_', type: { any_: ['table'] }, key: { like_: '0001' } }, limit: 200 }),
    latest('updated_desc', { sort: 'UPDATED_DESC', limit: 200 }),
    latest('key_asc', { sort: 'KEY_ASC', limit: 200 }),
    latest(`offset_${offset}`, { sort: 'CREATED_DESC', offset, limit: 200 }, false),
    latest(`deployment_1_2_offset_${Math.floor(offset / 5)}`, { deployments: { id: { any_: [id('deployment', 0)] } }, sort: 'CREATED_DESC', offset: Math.floor(offset / 5), limit: 200 }, false),
    { name: 'versions_by_key', path: VERSIONS, body: { artifacts: { key: { any_: [key] } }, sort: 'CREATED_DESC' }, indexed: true },
    { name: 'versions_count_type', path: VERSIONS_COUNT, body: { artifacts: { type: { any_: ['table'] } } }, indexed: true },
    { name: 'versions_deployment_1_5', path: VERSIONS, body: { deployments: { id: { any_: [id('deployment', 1)] } }, sort: 'CREATED_DESC', limit: 200 }, indexed: true },
    { name: 'versions_count_state_1_5', path: VERSIONS_COUNT, body: { flow_runs: { state: { type: { any_: ['FAILED'] } } } }, indexed: true },
    { name: 'versions_key_asc', path: VERSIONS, body: { sort: 'KEY_ASC', limit: 200 }, indexed: true, keyTies: true },
    { name: `versions_offset_${offset}`, path: VERSIONS, body: { sort: 'CREATED_DESC', offset, limit: 200 }, indexed: false },
  ];
}

/** The count route and body matching a case's filter (its sort and page dropped). */
export function countOf(c: QueryCase): { path: string; body: unknown } {
  const { sort: _sort, limit: _limit, offset: _offset, ...filters } = c.body as Record<string, unknown>;
  return { path: c.path.replace(/filter$/, 'count'), body: filters };
}

const BODIES = {
  artifact: { list: ReadArtifactsBody, count: CountArtifactsBody },
  artifact_collection: { list: ReadLatestArtifactsBody, count: CountLatestArtifactsBody },
} as const;

/**
 * The SQL the query app runs for a case: the same body schemas and statements (the bodies here are valid);
 * with the statistics of the collection's tag copies the app reads (ArtifactReadModel).
 */
export function statementFor(c: QueryCase, maxLimit = 200, tagStatistics?: TagStatistics): SqlStatement {
  const table: ArtifactTable = c.path.includes('/latest/') ? 'artifact_collection' : 'artifact';
  if (c.path.endsWith('/count')) return countStatement(table, BODIES[table].count.parse(c.body) as ArtifactQueryFilters<typeof table>);
  return listStatement(table, { ...listRequest(BODIES[table].list.parse(c.body) as ArtifactQueryFilters<typeof table>, maxLimit), tagStatistics });
}

export interface Selectivity {
  /** Rows the probe's filter matches (its count route), of the rows of the table it reads. */
  matched: number;
  of: number;
  share: number;
}

export interface QueryFigures {
  name: string;
  indexed: boolean;
  rows: number;
  selectivity: Selectivity;
  http: { p50_ms: number; p99_ms: number; rps: number; errors: number };
  db: { p50_ms: number; p99_ms: number; tps: number };
  http_p50_over_db_p50: number;
  /** One connection, the statement prepared as the app prepares it: executions 1-5 (custom plans) against 6-20, where PostgreSQL may switch to a generic plan. */
  prepared: { first_5_p50_ms: number; next_15_p50_ms: number; generic_plans: number; custom_plans: number };
}

export async function post(url: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
}

async function selectivity(url: string, c: QueryCase): Promise<Selectivity> {
  const count = countOf(c);
  const [matched, of] = await Promise.all([post(url, count.path, count.body), post(url, count.path, {})]).then((answers) => answers.map((a) => Number(a.text)));
  return { matched: matched!, of: of!, share: round(matched! / Math.max(1, of!), 4) };
}

/**
 * autocannon, 10 connections, after a warm-up: exact response times (its own histogram has whole-millisecond resolution).
 * With `requests` the window is that many requests instead of `seconds`.
 */
export async function http(url: string, c: QueryCase, seconds: number, warmupSeconds: number, requests?: number): Promise<QueryFigures['http'] & { rows: number }> {
  const body = JSON.stringify(c.body);
  const answer: unknown = JSON.parse((await post(url, c.path, c.body)).text);
  const rows = Array.isArray(answer) ? answer.length : Number(answer);
  const run = async (duration: number, amount?: number) => {
    const latencies: number[] = [];
    // autocannon looks at its clock once a sample (1 s by default): a shorter window (--quick) samples at its own length.
    const sampleInt = Math.min(1000, duration * 1000);
    const window = amount === undefined ? { duration } : { amount };
    const instance = autocannon({ url: url + c.path, method: 'POST', connections: 10, ...window, sampleInt, body, headers: { 'content-type': 'application/json' } });
    (instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => latencies.push(responseTime));
    const result = await instance;
    return { result, latencies: latencies.sort((a, b) => a - b) };
  };
  if (warmupSeconds > 0) await run(warmupSeconds);
  const { result, latencies } = await run(seconds, requests);
  return {
    rows,
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    // Over the time it ran (a sample or two past the window's end; autocannon counts in hundredths of a second).
    rps: round(latencies.length / Math.max(result.duration, requests === undefined ? seconds : 0.01), 1),
    errors: result.errors + result.non2xx,
  };
}

/** The database floor: the same statement through pg, named as the app names it, 10 concurrent clients, for the same time. */
async function database(pool: Pool, statement: SqlStatement, name: string, seconds: number, warmupSeconds: number): Promise<QueryFigures['db']> {
  const run = async (ms: number) => {
    const latencies: number[] = [];
    const until = Date.now() + ms;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (Date.now() < until) {
          const t = process.hrtime.bigint();
          await pool.query({ name: statement.prepare === false ? undefined : name, text: statement.text, values: statement.values, rowMode: 'array' });
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
    return latencies;
  };
  if (warmupSeconds > 0) await run(warmupSeconds * 1000);
  const latencies = (await run(seconds * 1000)).sort((a, b) => a - b);
  return { p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)), tps: round(latencies.length / seconds, 1) };
}

async function prepared(databaseUrl: string, statement: SqlStatement): Promise<QueryFigures['prepared']> {
  const client = new Client({ connectionString: databaseUrl, options: '-c timezone=UTC' });
  await client.connect();
  try {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = process.hrtime.bigint();
      await client.query({ name: statement.prepare === false ? undefined : 'repeated', text: statement.text, values: statement.values, rowMode: 'array' });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    // A statement planned for each execution (SqlStatement.prepare) is never kept: 20 custom plans.
    const plans =
      statement.prepare === false
        ? { generic_plans: '0', custom_plans: String(times.length) }
        : (await client.query<{ generic_plans: string; custom_plans: string }>("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'repeated'")).rows[0];
    const median = (list: number[]) => round(percentile([...list].sort((a, b) => a - b), 50));
    return { first_5_p50_ms: median(times.slice(0, 5)), next_15_p50_ms: median(times.slice(5)), generic_plans: Number(plans?.generic_plans), custom_plans: Number(plans?.custom_plans) };
  } finally {
    await client.end();
  }
}

export async function measureQueries(url: string, databaseUrl: string, scale: Scale, size: number, log: (line: string) => void): Promise<QueryFigures[]> {
  const pool = new Pool({ connectionString: databaseUrl, max: 10, options: '-c timezone=UTC' });
  const out: QueryFigures[] = [];
  try {
    const tagStatistics = tagStatisticsOf((await pool.query<string[]>({ text: TAG_STATISTICS.text, rowMode: 'array' })).rows);
    for (const [i, c] of queryMix(scale, size).entries()) {
      const h = await http(url, c, scale.queryDurationSeconds, scale.warmupSeconds, scale.queryRequests);
      const statement = statementFor(c, 200, tagStatistics);
      const d = await database(pool, statement, `bench_${i}`, scale.queryDurationSeconds, scale.warmupSeconds);
      const { rows, ...httpFigures } = h;
      const share = await selectivity(url, c);
      const repeated = await prepared(databaseUrl, statement);
      const figures = { name: c.name, indexed: c.indexed, rows, selectivity: share, http: httpFigures, db: d, http_p50_over_db_p50: round(h.p50_ms / Math.max(d.p50_ms, 0.001)), prepared: repeated };
      out.push(figures);
      log(
        `  ${c.name.padEnd(26)} rows ${String(rows).padStart(5)} share ${String(share.share).padEnd(6)}  http p50 ${h.p50_ms} ms p99 ${h.p99_ms} ms ${h.rps} rps | db p50 ${d.p50_ms} ms p99 ${d.p99_ms} ms ${d.tps} tps | prepared 1-5 ${repeated.first_5_p50_ms} ms, 6-20 ${repeated.next_15_p50_ms} ms (${repeated.generic_plans} generic)`,
      );
    }
  } finally {
    await pool.end();
  }
  return out;
}
