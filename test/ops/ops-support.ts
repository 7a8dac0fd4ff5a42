import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { dlqTopic } from '@app/contracts';
import { AppProcess, freePort, spawnApp, waitFor } from '../../infra/local/apps';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectKafka, requireBrokers, TestKafka } from '../support/kafka';

const ROOT = join(__dirname, '..', '..');

/** One spec's own topics (and their .dlq), consumer group and database. */
export class OpsWorld {
  readonly apps: AppProcess[] = [];

  private constructor(
    readonly name: string,
    readonly topics: { artifacts: string; runs: string },
    readonly groupId: string,
    readonly db: TestDatabase,
    readonly kafka: TestKafka,
  ) {}

  static async create(prefix: string, partitions = 3): Promise<OpsWorld> {
    const name = `${prefix}-${randomBytes(4).toString('hex')}`;
    const [db, kafka] = await Promise.all([createTestDatabase(prefix.replace(/[^a-z0-9]/g, '_')), connectKafka()]);
    const world = new OpsWorld(name, { artifacts: `${name}.artifacts`, runs: `${name}.runs` }, `${name}-group`, db, kafka);
    const topics = [world.topics.artifacts, world.topics.runs];
    await kafka.admin.createTopics({ waitForLeaders: true, topics: [...topics, ...topics.map(dlqTopic)].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
    return world;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.db.url,
      KAFKA_BROKERS: requireBrokers().join(','),
      ARTIFACT_TOPIC: this.topics.artifacts,
      RUN_TOPIC: this.topics.runs,
      KAFKA_GROUP_ID: this.groupId,
      ...extra,
    };
  }

  /** Spawns the built ingest app and waits for `/health` 200. */
  async startIngest(extra: Record<string, string> = {}): Promise<AppProcess> {
    const app = spawnApp('ingest', this.env({ INGEST_PORT: String(await freePort()), ...extra }));
    this.apps.push(app);
    await waitForStatus(app, '/health', 200);
    return app;
  }

  async count(table: string): Promise<number> {
    const rows = (await this.db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`)) as { n: number }[];
    return rows[0]!.n;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.apps.map((app) => app.stop()));
    const topics = [this.topics.artifacts, this.topics.runs];
    await this.kafka.admin.deleteTopics({ topics: [...topics, ...topics.map(dlqTopic)] }).catch(() => undefined);
    await this.kafka.admin.deleteGroups([this.groupId]).catch(() => undefined);
    await this.kafka.close().catch(() => undefined);
    await this.db.drop().catch(() => undefined);
  }
}

export async function waitForStatus(app: AppProcess, path: string, status: number, timeoutMs = 60_000): Promise<string> {
  return waitFor(
    `${app.name} ${path} -> ${status}`,
    async () => {
      if (app.child.exitCode !== null || app.child.signalCode !== null) throw new Error(`${app.name} exited: ${app.output().slice(-2000)}`);
      const response = await fetch(app.url + path);
      const body = await response.text();
      return response.status === status ? body : undefined;
    },
    timeoutMs,
  );
}

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
  ms: number;
}

/** Runs `npm run events -- <args>` as the npm script does (ts-node, transpile only), with only `env` and PATH. */
export function runCli(args: string[], env: Record<string, string>, input?: string, timeoutMs = 60_000): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, 'scripts', 'events.ts'), ...args], {
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
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}
