import autocannon from 'autocannon';
import { Pool } from 'pg';
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
}

/** The mix of issue #5, with the UI's default list-and-count pair first. */
export function queryMix(scale: Scale, size: number): QueryCase[] {
  const keys = Math.max(1, Math.floor(scale.versions / 10));
  const key = keyOf(123 % keys);
  const offset = Math.min(10_000, Math.floor(Math.min(keys, size) * 0.6));
  return [
    { name: 'ui_list', path: '/api/artifacts/latest/filter', body: { sort: 'ID_DESC', limit: 200, artifacts: { key: { exists_: true } } }, indexed: true },
    { name: 'ui_count', path: '/api/artifacts/latest/count', body: { artifacts: { key: { exists_: true } } }, indexed: true },
    { name: 'ui_list_type', path: '/api/artifacts/latest/filter', body: { sort: 'ID_DESC', limit: 200, artifacts: { key: { exists_: true }, type: { any_: ['markdown'] } } }, indexed: true },
    { name: 'ui_count_type', path: '/api/artifacts/latest/count', body: { artifacts: { key: { exists_: true }, type: { any_: ['markdown'] } } }, indexed: true },
    { name: 'key_any', path: '/api/artifacts/latest/filter', body: { artifacts: { key: { any_: [key] } } }, indexed: true },
    { name: 'key_like', path: '/api/artifacts/latest/filter', body: { artifacts: { key: { like_: '00012' } }, limit: 50 }, indexed: true },
    { name: 'flow_run_id_any', path: '/api/artifacts/latest/filter', body: { artifacts: { flow_run_id: { any_: [id('flow-run', 5)] } } }, indexed: true },
    { name: 'flow_runs_state', path: '/api/artifacts/latest/filter', body: { flow_runs: { state: { type: { any_: ['COMPLETED'] } } }, limit: 200 }, indexed: true },
    { name: 'deployments_id', path: '/api/artifacts/latest/filter', body: { deployments: { id: { any_: [id('deployment', 5)] } }, limit: 200 }, indexed: true },
    { name: `offset_${offset}`, path: '/api/artifacts/latest/filter', body: { sort: 'CREATED_DESC', offset, limit: 200 }, indexed: false },
    { name: 'versions_by_key', path: '/api/artifacts/filter', body: { artifacts: { key: { any_: [key] } }, sort: 'CREATED_DESC' }, indexed: true },
  ];
}

const BODIES = {
  artifact: { list: ReadArtifactsBody, count: CountArtifactsBody },
  artifact_collection: { list: ReadLatestArtifactsBody, count: CountLatestArtifactsBody },
} as const;

/** The SQL the query app runs for a case: the same body schemas and statements (the bodies here are valid). */
export function statementFor(c: QueryCase, maxLimit = 200): SqlStatement {
  const table: ArtifactTable = c.path.includes('/latest/') ? 'artifact_collection' : 'artifact';
  if (c.path.endsWith('/count')) return countStatement(table, BODIES[table].count.parse(c.body) as ArtifactQueryFilters<typeof table>);
  return listStatement(table, listRequest(BODIES[table].list.parse(c.body) as ArtifactQueryFilters<typeof table>, maxLimit));
}

export interface QueryFigures {
  name: string;
  indexed: boolean;
  rows: number;
  http: { p50_ms: number; p99_ms: number; rps: number; errors: number };
  db: { p50_ms: number; p99_ms: number; tps: number };
  http_p50_over_db_p50: number;
}

async function http(url: string, c: QueryCase, seconds: number): Promise<QueryFigures['http'] & { rows: number }> {
  const body = JSON.stringify(c.body);
  const probe = await fetch(url + c.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const answer: unknown = await probe.json();
  const rows = Array.isArray(answer) ? answer.length : Number(answer);
  // autocannon's own histogram has whole-millisecond resolution; keep every exact response time instead.
  const run = async (duration: number) => {
    const latencies: number[] = [];
    const instance = autocannon({ url: url + c.path, method: 'POST', connections: 10, duration, body, headers: { 'content-type': 'application/json' } });
    (instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => latencies.push(responseTime));
    const result = await instance;
    return { result, latencies: latencies.sort((a, b) => a - b) };
  };
  await run(1); // warm-up
  const { result, latencies } = await run(seconds);
  return {
    rows,
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    rps: round(latencies.length / seconds, 1),
    errors: result.errors + result.non2xx,
  };
}

/** The database floor: the same statement through pg, 10 concurrent clients, for the same time. */
async function database(pool: Pool, statement: SqlStatement, seconds: number): Promise<QueryFigures['db']> {
  const run = async (ms: number) => {
    const latencies: number[] = [];
    const until = Date.now() + ms;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (Date.now() < until) {
          const t = process.hrtime.bigint();
          await pool.query({ text: statement.text, values: statement.values, rowMode: 'array' });
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
    return latencies;
  };
  await run(1000);
  const latencies = (await run(seconds * 1000)).sort((a, b) => a - b);
  return { p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)), tps: round(latencies.length / seconds, 1) };
}

export async function measureQueries(url: string, databaseUrl: string, scale: Scale, size: number, log: (line: string) => void): Promise<QueryFigures[]> {
  const pool = new Pool({ connectionString: databaseUrl, max: 10, options: '-c timezone=UTC' });
  const out: QueryFigures[] = [];
  try {
    for (const c of queryMix(scale, size)) {
      const h = await http(url, c, scale.queryDurationSeconds);
      const d = await database(pool, statementFor(c), scale.queryDurationSeconds);
      const { rows, ...httpFigures } = h;
      const figures = { name: c.name, indexed: c.indexed, rows, http: httpFigures, db: d, http_p50_over_db_p50: round(h.p50_ms / Math.max(d.p50_ms, 0.001)) };
      out.push(figures);
      log(`  ${c.name.padEnd(18)} rows ${String(rows).padStart(7)}  http p50 ${h.p50_ms} ms p99 ${h.p99_ms} ms ${h.rps} rps | db p50 ${d.p50_ms} ms p99 ${d.p99_ms} ms ${d.tps} tps`);
    }
  } finally {
    await pool.end();
  }
  return out;
}
