// What every bench program stands on: the built apps, Kafka and PostgreSQL (the ones
// KAFKA_BROKERS / DATABASE_URL name, else a local pair started here), fresh topics with
// their dead-letter topics, a fresh database, a partition-tracking producer, and the apps
// it starts; `close` takes down exactly what `openBenchWorld` set up.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { BatchTotals, createTopicsSettled, IngestStatus, trackPartitions } from '@app/contracts';
import { down, up } from '../infra/local';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../infra/local/apps';
import { createDatabase } from '../infra/local/postgres';
import type { Topics } from './dataset';

const ROOT = join(__dirname, '..');
const PARTITIONS = 6;

/**
 * The bench's own PostgreSQL: durable (fsync, full-page writes), sized as a server for a
 * million-version read model would be rather than PostgreSQL's 128 MB default cache.
 * profile-ingest runs with the same.
 */
export const BENCH_POSTGRES_SETTINGS = { shared_buffers: '2GB', max_wal_size: '8GB', checkpoint_timeout: '15min' };

export const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** `--name value` from the command line, else `fallback`. */
export function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

export interface BenchWorldOptions {
  /** Names the topics (`<name>-<suffix>.artifacts`), the group, the database (`<name>_<suffix>`) and the Kafka client. */
  name: string;
  /** For the local servers, when started here (see UpOptions). */
  persistent: boolean;
  postgresSettings?: Record<string, string>;
}

export interface BenchWorld {
  topics: Topics;
  group: string;
  /** The PostgreSQL server (its default database) and the bench's own database on it. */
  serverUrl: string;
  databaseUrl: string;
  kafka: Kafka;
  /** Acknowledged by all replicas; each send's answer gives exact offsets (offsetsOfSend). */
  producer: Producer;
  /** The servers' processes when started here (their CPU time can be measured too), and Kafka's version. */
  started?: { kafkaPid?: number; postgresPid?: number; kafkaVersion?: string };
  /** Starts a built app on a free port against this world's topics, group and database, and waits until it is healthy. */
  startApp(name: 'ingest' | 'query', env?: Record<string, string>): Promise<AppProcess>;
  close(): Promise<void>;
}

/** Builds the apps when dist/ lacks them (or with --build). */
function ensureBuilt(): void {
  if (existsSync(join(ROOT, 'dist/apps/ingest/main.js')) && existsSync(join(ROOT, 'dist/apps/query/main.js')) && !process.argv.includes('--build')) return;
  log('building the apps...');
  if (spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('build failed');
}

export async function openBenchWorld(options: BenchWorldOptions): Promise<BenchWorld> {
  ensureBuilt();
  const undo: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of undo.reverse()) await step().catch((error: Error) => log(`bench teardown: ${error.message}`));
    undo.length = 0;
  };
  try {
    let brokers = process.env.KAFKA_BROKERS;
    let serverUrl = process.env.DATABASE_URL;
    let started: BenchWorld['started'];
    if (!brokers || !serverUrl) {
      const dir = mkdtempSync(join(tmpdir(), `arm-${options.name}-`));
      undo.push(async () => {
        await down(dir);
        rmSync(dir, { recursive: true, force: true });
      });
      log('starting Kafka and PostgreSQL...');
      const infra = await up({ dir, persistent: options.persistent, kafkaPartitions: PARTITIONS, postgresSettings: options.postgresSettings });
      brokers ??= infra.KAFKA_BROKERS;
      serverUrl ??= infra.DATABASE_URL;
      started = { kafkaPid: infra.started.kafka?.pid, postgresPid: infra.started.postgres?.pid, kafkaVersion: infra.started.kafka?.version };
    }
    const suffix = randomBytes(4).toString('hex');
    const topics: Topics = { artifacts: `${options.name}-${suffix}.artifacts`, runs: `${options.name}-${suffix}.runs` };
    const allTopics = [topics.artifacts, topics.runs, `${topics.artifacts}.dlq`, `${topics.runs}.dlq`];
    const kafka = new Kafka({ clientId: options.name, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    undo.push(() => admin.disconnect());
    await createTopicsSettled(admin, allTopics.map((topic) => ({ topic, numPartitions: PARTITIONS })));
    undo.push(() => admin.deleteTopics({ topics: allTopics }));
    const producer = kafka.producer({ createPartitioner: trackPartitions(Partitioners.DefaultPartitioner), allowAutoTopicCreation: false });
    await producer.connect();
    undo.push(() => producer.disconnect());

    const database = await createDatabase(serverUrl, `${options.name}_${suffix}`);
    undo.push(() => database.drop());
    const databaseUrl = database.url;

    const group = `${options.name}-${suffix}`;
    const appEnv = { DATABASE_URL: databaseUrl, KAFKA_BROKERS: brokers, ARTIFACT_TOPIC: topics.artifacts, RUN_TOPIC: topics.runs, KAFKA_GROUP_ID: group };
    const apps: AppProcess[] = [];
    undo.push(() => Promise.allSettled(apps.map((app) => app.stop())));
    const startApp = async (name: 'ingest' | 'query', env: Record<string, string> = {}) => {
      const app = spawnApp(name, { ...appEnv, ...env, [name === 'ingest' ? 'INGEST_PORT' : 'QUERY_PORT']: String(await freePort()) });
      apps.push(app);
      await waitForStatus(app, name === 'ingest' ? '/health' : '/api/health', 200, 120_000);
      return app;
    };
    return { topics, group, serverUrl, databaseUrl, kafka, producer, started, startApp, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The batch histograms' totals over every topic (GET /status `since_start.batches`): the ingest's write cost. */
export async function batchTotals(ingest: AppProcess): Promise<Omit<BatchTotals, 'topic'>> {
  const response = await fetch(`${ingest.url}/status`);
  const batches = ((await response.json()) as Partial<IngestStatus>).since_start?.batches;
  if (!batches) throw new Error(`ingest /status (${response.status}) has no since_start.batches`);
  return batches.reduce((sum, b) => ({ batches: sum.batches + b.batches, messages: sum.messages + b.messages, seconds: sum.seconds + b.seconds }), { batches: 0, messages: 0, seconds: 0 });
}
