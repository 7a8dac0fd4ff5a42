import type { IngestStatus } from '@app/contracts';
import { CliEnv, CliError, parseArgs } from './cli';

export const LAG_USAGE = 'events lag [--json]   (reads INGEST_URL, default http://127.0.0.1:4201)';

export const LAG_HELP = `${LAG_USAGE}
  Per topic-partition: high-water mark, the ingest app's stored checkpoint, lag and freshness (from its GET /status).
  --json   the same as one JSON object
`;

const HTTP_TIMEOUT_MS = 5_000;

export type LagRow = IngestStatus['partitions'][number];

/** The parts of the ingest app's GET /status this command reads. */
export type StatusBody = Pick<IngestStatus, 'caught_up' | 'partitions' | 'error'>;

const isRow = (r: Partial<LagRow>) =>
  typeof r.topic === 'string' &&
  typeof r.partition === 'number' &&
  typeof r.high_watermark === 'string' &&
  (r.checkpoint === null || typeof r.checkpoint === 'string') &&
  typeof r.lag === 'string' &&
  (r.freshness_seconds === null || typeof r.freshness_seconds === 'number');

/** The lag rows of a /status answer; a missing field is an error, never read as 0. */
export function lagRows(status: Partial<StatusBody>): { caughtUp: boolean; rows: LagRow[] } {
  if (status.error !== undefined || status.caught_up === null) throw new CliError(`the ingest app cannot compute its lag: ${status.error ?? 'unknown error'}`);
  if (typeof status.caught_up !== 'boolean' || !Array.isArray(status.partitions) || !status.partitions.every(isRow)) {
    throw new CliError('the ingest app answered /status without caught_up or complete partitions (an older ingest app?)');
  }
  return { caughtUp: status.caught_up, rows: status.partitions };
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

/** Lag and freshness per topic-partition from the ingest app's GET /status. */
export async function lagCommand(argv: string[], env: CliEnv, io: { stdout: NodeJS.WritableStream }): Promise<number> {
  const { positional, options } = parseArgs(argv, { json: 'flag' });
  if (positional.length > 0) throw new CliError(`usage: ${LAG_USAGE}`, 2);
  const url = `${env.ingestUrl}/status`;
  const response = await get(url);
  if (response.status !== 200) throw new CliError(`${url} answered ${response.status}`);
  let body: Partial<StatusBody>;
  try {
    body = JSON.parse(response.body) as Partial<StatusBody>;
  } catch {
    throw new CliError(`${url} answered with a body that is not JSON`);
  }
  const { caughtUp, rows } = lagRows(body);
  io.stdout.write(options.json ? `${JSON.stringify({ caught_up: caughtUp, partitions: rows })}\n` : formatLag(rows, caughtUp));
  return 0;
}
