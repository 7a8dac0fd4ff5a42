import { CliEnv, CliError, parseArgs } from './cli';

export const LAG_USAGE = 'events lag [--json]   (reads INGEST_URL, default http://127.0.0.1:4201)';

export const LAG_HELP = `${LAG_USAGE}
  Per topic-partition: high-water mark, the ingest app's stored checkpoint, lag and freshness (from its /ready and /metrics).
  --json   the same as one JSON object
`;

const HTTP_TIMEOUT_MS = 5_000;

interface ReadyPartition {
  topic: string;
  partition: number;
  high_watermark: string;
  checkpoint: string | null;
  lag: string;
}

interface ReadyBody {
  caught_up: boolean;
  partitions?: ReadyPartition[];
  error?: string;
}

export interface LagRow extends ReadyPartition {
  freshness_seconds: number | null;
}

/** `name{labels} value` samples of one metric in Prometheus text format. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

export function lagRows(ready: ReadyBody, metrics: string): LagRow[] {
  const freshness = new Map(samples(metrics, 'ingest_projection_freshness_seconds').map((s) => [`${s.labels.topic}:${s.labels.partition}`, s.value]));
  return (ready.partitions ?? []).map((p) => ({ ...p, freshness_seconds: freshness.get(`${p.topic}:${p.partition}`) ?? null }));
}

function seconds(value: number | null): string {
  if (value === null) return '-';
  if (value < 60) return `${value.toFixed(1)}s`;
  if (value < 3600) return `${Math.floor(value / 60)}m${String(Math.round(value % 60)).padStart(2, '0')}s`;
  return `${Math.floor(value / 3600)}h${String(Math.floor((value % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatLag(rows: LagRow[], caughtUp: boolean): string {
  const table = [['TOPIC', 'PARTITION', 'HIGH-WATER', 'CHECKPOINT', 'LAG', 'FRESHNESS']];
  for (const r of rows) table.push([r.topic, String(r.partition), r.high_watermark, r.checkpoint ?? '-', r.lag, seconds(r.freshness_seconds)]);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  const total = rows.reduce((sum, r) => sum + BigInt(r.lag), 0n);
  lines.push(`total lag: ${total} message${total === 1n ? '' : 's'}; ${caughtUp ? 'caught up' : 'behind'}`);
  return lines.join('\n') + '\n';
}

async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = (error as Error).name === 'TimeoutError' ? `no answer within ${HTTP_TIMEOUT_MS / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new CliError(`cannot reach the ingest app at ${url}: ${why}`);
  }
}

/** Lag per topic-partition from the ingest app's `/ready` (503 just means behind), freshness from its `/metrics`. */
export async function lagCommand(argv: string[], env: CliEnv, io: { stdout: NodeJS.WritableStream }): Promise<number> {
  const { positional, options } = parseArgs(argv, { json: 'flag' });
  if (positional.length > 0) throw new CliError(`usage: ${LAG_USAGE}`, 2);
  const [ready, metrics] = await Promise.all([get(`${env.ingestUrl}/ready`), get(`${env.ingestUrl}/metrics`)]);
  let body: ReadyBody;
  try {
    body = JSON.parse(ready.body) as ReadyBody;
  } catch {
    throw new CliError(`${env.ingestUrl}/ready answered ${ready.status} with a body that is not JSON`);
  }
  if (body.error) throw new CliError(`the ingest app cannot compute its lag: ${body.error}`);
  if (metrics.status !== 200) throw new CliError(`${env.ingestUrl}/metrics answered ${metrics.status}`);
  const rows = lagRows(body, metrics.body);
  io.stdout.write(options.json ? `${JSON.stringify({ caught_up: body.caught_up, partitions: rows })}\n` : formatLag(rows, body.caught_up));
  return 0;
}
