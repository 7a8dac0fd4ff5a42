import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { AppProcess } from '../../infra/local/apps';

const ROOT = join(__dirname, '..', '..');

// The Prometheus text is parsed here only for metrics.e2e-spec.ts, the test of /metrics
// itself; tools and the other tests read the ingest app's GET /status.

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

export async function scrape(app: AppProcess): Promise<string> {
  const response = await fetch(`${app.url}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** Sum of the samples of `name` whose labels include `labels`; undefined when there is none. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(text, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the events CLI as built (dist/tools/events.js, what the image runs; `npm test`
 * builds it first), with only `env` and PATH.
 */
export function runCli(args: string[], env: Record<string, string>, input?: string, timeoutMs = 60_000): Promise<CliResult> {
  return runNode([join(ROOT, 'dist', 'tools', 'events.js'), ...args], env, input, timeoutMs);
}

/** Runs `npm run events -- <args>` as the npm script does (ts-node, transpile only): seconds slower, so only to prove that wiring. */
export function runCliFromSource(args: string[], env: Record<string, string>, input?: string, timeoutMs = 60_000): Promise<CliResult> {
  return runNode(['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'scripts', 'events.ts'), ...args], env, input, timeoutMs);
}

function runNode(argv: string[], env: Record<string, string>, input: string | undefined, timeoutMs: number): Promise<CliResult> {
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}
