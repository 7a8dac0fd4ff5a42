// npm run stack [-- --cluster] [--demo]: the whole service on one machine. Starts the local Kafka
// broker and PostgreSQL (unless KAFKA_BROKERS / DATABASE_URL point elsewhere), builds
// the apps when needed, starts ingest and query, optionally publishes the demo data,
// prints the URLs, and on Ctrl-C stops everything it started. --cluster: the local
// cluster of `infra up --cluster` instead, with 2 ingest instances and 2 query apps
// (the second query app on QUERY_PORT + 10, the second ingest on INGEST_PORT + 1).
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import * as path from 'node:path';
import { parseKafkaSecurity } from '@app/contracts';
import { downCluster, readClusterState, readState, stopKafka, stopPostgres, up, upCluster } from '../infra/local';
import { portFromEnv } from '../infra/local/proc';
import { demoEvents } from './demo-data';
import { createKafka, createProducer } from './events/kafka';

const ROOT = path.resolve(__dirname, '..');
// INFRA_DATA_DIR: where the local infrastructure keeps its data and state (default .data in the repository).
const DIR = path.resolve(process.env.INFRA_DATA_DIR || path.join(ROOT, '.data'));
const CLUSTER_DIR = path.join(DIR, 'cluster');

/** The cluster's URLs and how to stop it (only when this command started it). */
async function clusterInfra(): Promise<{ env: NodeJS.ProcessEnv; stop: () => Promise<void> }> {
  const reused = readClusterState(CLUSTER_DIR) !== undefined;
  const { urls } = await upCluster({
    dir: CLUSTER_DIR,
    persistent: true,
    kafkaBasePort: portFromEnv('INFRA_KAFKA_PORT', 9092),
    postgresBasePort: portFromEnv('INFRA_POSTGRES_PORT', 5432),
  });
  const failover = `${urls.DATABASE_URL.replace(/@[^/]+\//, `@${[urls.DATABASE_URL, ...urls.DATABASE_READ_URLS.split(',')].map((u) => new URL(u).host).join(',')}/`)}?target_session_attrs=read-write`;
  return {
    env: { KAFKA_BROKERS: urls.KAFKA_BROKERS, DATABASE_URL: failover, DATABASE_READ_URLS: urls.DATABASE_READ_URLS },
    stop: async () => {
      if (!reused) await downCluster(CLUSTER_DIR);
    },
  };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function buildIfStale(): void {
  const entries = ['ingest', 'query'].map((app) => path.join(ROOT, 'dist', 'apps', app, 'main.js'));
  const built = Math.min(...entries.map((e) => (existsSync(e) ? statSync(e).mtimeMs : 0)));
  if (built > Math.max(newestMtime(path.join(ROOT, 'apps')), newestMtime(path.join(ROOT, 'libs')))) return;
  console.error('building the apps (npm run build)...');
  const result = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
  // webpack leaves an unchanged output file alone (a change to comments or types only): mark the
  // entries built now, or every start would build again.
  const now = new Date();
  for (const entry of entries) utimesSync(entry, now, now);
}

function startApp(name: string, env: NodeJS.ProcessEnv, app = name): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'apps', app, 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((line) => line !== '')
      .forEach((line) => process.stderr.write(`[${name}] ${line}\n`));
  child.stdout?.on('data', prefix);
  child.stderr?.on('data', prefix);
  return child;
}

async function waitHttp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the app exited with code ${child.exitCode}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

async function publishDemo(brokers: string, artifactTopic: string, runTopic: string): Promise<number> {
  const kafka = createKafka({ brokers: brokers.split(','), security: parseKafkaSecurity(process.env) }, 'stack-demo');
  const producer = createProducer(kafka);
  await producer.connect();
  const events = demoEvents();
  try {
    for (const event of events) {
      const cloudEvent = { specversion: '1.0', id: randomUUID(), source: '/demo/stack', type: event.type, time: event.time, subject: String(event.data.id), data: event.data };
      await producer.send({
        topic: event.topic === 'artifacts' ? artifactTopic : runTopic,
        acks: -1,
        messages: [{ key: event.key, value: JSON.stringify(cloudEvent), headers: { 'content-type': 'application/cloudevents+json' } }],
      });
    }
  } finally {
    await producer.disconnect();
  }
  return events.length;
}

async function main(): Promise<void> {
  const demo = process.argv.includes('--demo');
  const clustered = process.argv.includes('--cluster') ? await clusterInfra() : undefined;
  const infra = clustered
    ? { KAFKA_BROKERS: clustered.env.KAFKA_BROKERS!, DATABASE_URL: clustered.env.DATABASE_URL!, reused: { kafka: true, postgres: true } }
    : await up({
        dir: DIR,
        persistent: true,
        kafkaPort: portFromEnv('INFRA_KAFKA_PORT', 9092),
        kafkaControllerPort: portFromEnv('INFRA_KAFKA_CONTROLLER_PORT', 9093),
        postgresPort: portFromEnv('INFRA_POSTGRES_PORT', 5432),
      });
  const stopInfra = async () => {
    if (clustered) return clustered.stop();
    const state = readState(DIR);
    if (state?.kafka && !infra.reused.kafka && !process.env.KAFKA_BROKERS) await stopKafka(state.kafka.dataDir);
    if (state?.postgres && !infra.reused.postgres && !process.env.DATABASE_URL) await stopPostgres(state.postgres.dataDir);
  };
  const apps: ChildProcess[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.error('\nstopping...');
    await Promise.all(
      apps.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 12_000).unref();
          }),
      ),
    );
    await stopInfra();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  try {
    buildIfStale();
    const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_BROKERS: infra.KAFKA_BROKERS, DATABASE_URL: infra.DATABASE_URL, ...clustered?.env };
    const ingestPort = env.INGEST_PORT ?? '4201';
    const queryPort = env.QUERY_PORT ?? '4200';
    const ingest = startApp('ingest', env);
    apps.push(ingest);
    await waitHttp(`http://127.0.0.1:${ingestPort}/health`, ingest);
    const query = startApp('query', env);
    apps.push(query);
    await waitHttp(`http://127.0.0.1:${queryPort}/api/health`, query);
    if (clustered) {
      const secondIngest = startApp('ingest-2', { ...env, INGEST_PORT: String(Number(ingestPort) + 1) }, 'ingest');
      const secondQuery = startApp('query-2', { ...env, QUERY_PORT: String(Number(queryPort) + 10) }, 'query');
      apps.push(secondIngest, secondQuery);
      await waitHttp(`http://127.0.0.1:${Number(ingestPort) + 1}/health`, secondIngest);
      await waitHttp(`http://127.0.0.1:${Number(queryPort) + 10}/api/health`, secondQuery);
    }
    for (const child of apps) child.once('exit', (code) => void shutdown(code ?? 1));
    if (demo) {
      const count = await publishDemo(infra.KAFKA_BROKERS, env.ARTIFACT_TOPIC ?? 'prefect.artifacts', env.RUN_TOPIC ?? 'prefect.runs');
      await waitHttp(`http://127.0.0.1:${ingestPort}/ready`, ingest);
      console.error(`published ${count} demo events; the read model has caught up`);
    }
    console.log(`
  API          http://localhost:${queryPort}/api   (e.g. curl -X POST localhost:${queryPort}/api/artifacts/latest/filter)
  Swagger UI   http://localhost:${queryPort}/docs
  Web page     http://localhost:${queryPort}/
  Metrics      http://localhost:${queryPort}/metrics  and  http://localhost:${ingestPort}/metrics
  Ingest       http://localhost:${ingestPort}/ready
  Kafka        ${infra.KAFKA_BROKERS}
  PostgreSQL   ${infra.DATABASE_URL.replace(/:[^:@/]+@/, ':***@')}${clustered ? `\n  Standbys     ${clustered.env.DATABASE_READ_URLS!.replace(/:[^:@/]+@/g, ':***@')}\n  Second apps  query http://localhost:${Number(queryPort) + 10}, ingest http://localhost:${Number(ingestPort) + 1}` : ''}

Ctrl-C stops everything this command started.`);
  } catch (error) {
    console.error(`stack: ${(error as Error).message.split('\n')[0]}`);
    await shutdown(1);
  }
}

void main();
