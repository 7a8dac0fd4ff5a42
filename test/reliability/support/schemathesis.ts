import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, ensureVenv } from '../../../infra/local/venv';

// Schemathesis (PyPI) in a virtualenv of its own outside the repository,
// created on first use: ~/.cache/artifact-read-model/schemathesis-<version>.

export const SCHEMATHESIS_VERSION = '4.32.5';

function run(command: string, args: string[], options: { cwd?: string; timeoutMs: number }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, PYTHONUNBUFFERED: '1', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The `st` executable, installing the pinned version into its virtualenv when missing. */
export function schemathesisBin(): string {
  return join(ensureVenv(join(CACHE, `schemathesis-${SCHEMATHESIS_VERSION}`), [`schemathesis==${SCHEMATHESIS_VERSION}`]), 'st');
}

export interface SchemathesisRun {
  exitCode: number | null;
  output: string;
  seed: number;
  /** From the JUnit report: operations tested, and those that failed or errored. */
  operations: number;
  failures: number;
  errors: number;
  /** From the NDJSON report: every request sent, by response status ('none' when no response came). */
  requests: number;
  statuses: Record<string, number>;
  /** The run's own summary line, e.g. "7034 generated, 7034 passed". */
  summary: string;
}

/** Runs schemathesis against the OpenAPI document at `schemaUrl` and reads its reports. */
export async function runSchemathesis(options: {
  schemaUrl: string;
  reportDir: string;
  checks: string[];
  maxExamples: number;
  seed: number;
  workers?: number;
  timeoutMs?: number;
  /** Paths left out (every method). */
  excludePaths?: string[];
}): Promise<SchemathesisRun> {
  const bin = schemathesisBin();
  mkdirSync(options.reportDir, { recursive: true });
  const args = [
    'run',
    options.schemaUrl,
    '--checks',
    options.checks.join(','),
    '--max-examples',
    String(options.maxExamples),
    '--seed',
    String(options.seed),
    '--workers',
    String(options.workers ?? 2),
    '--request-timeout',
    '60',
    '--report',
    'junit,ndjson',
    '--report-dir',
    options.reportDir,
    '--output-truncate',
    'true',
    ...(options.excludePaths ?? []).flatMap((path) => ['--exclude-path', path]),
  ];
  // cwd: the report directory, so Hypothesis's example database lands there and not in the repository.
  const { code, output } = await run(bin, args, { cwd: options.reportDir, timeoutMs: options.timeoutMs ?? 600_000 });
  const files = readdirSync(options.reportDir);
  const junitFile = files.find((f) => f.startsWith('junit') && f.endsWith('.xml'));
  const ndjsonFile = files.find((f) => f.startsWith('ndjson') && f.endsWith('.ndjson'));
  if (!junitFile || !ndjsonFile) throw new Error(`schemathesis wrote no reports (exit ${code}): ${output.slice(-3000)}`);
  const junit = readFileSync(join(options.reportDir, junitFile), 'utf8');
  const suites = /<testsuites\b([^>]*)>/.exec(junit)?.[1] ?? '';
  const attribute = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suites)?.[1] ?? NaN);
  const statuses: Record<string, number> = {};
  let requests = 0;
  for (const line of readFileSync(join(options.reportDir, ndjsonFile), 'utf8').split('\n')) {
    if (!line.includes('"ScenarioFinished"')) continue;
    const event = JSON.parse(line) as { ScenarioFinished: { recorder: { interactions?: Record<string, { response?: { status_code: number } | null }> } } };
    for (const interaction of Object.values(event.ScenarioFinished.recorder.interactions ?? {})) {
      const status = interaction.response ? String(interaction.response.status_code) : 'none';
      statuses[status] = (statuses[status] ?? 0) + 1;
      requests++;
    }
  }
  return {
    exitCode: code,
    output,
    seed: options.seed,
    operations: attribute('tests'),
    failures: attribute('failures'),
    errors: attribute('errors'),
    requests,
    statuses,
    summary: /(\d+ generated[^\n]*)/.exec(output)?.[1]?.trim() ?? '',
  };
}
