// Ingest alone, for profiling: produces a fixed backlog once (kept in a persistent local
// Kafka + PostgreSQL under /tmp/perf-infra), then starts the built ingest app on a fresh
// database and group, times it to the high-water marks and reports the CPU seconds of
// PostgreSQL, Kafka and the ingest process.
//   npx ts-node -r tsconfig-paths/register --transpile-only bench/profile-ingest.ts [versions] [--prof] [--log] [--keep] [ENV=value ...]
//   --prof: a V8 CPU profile in /tmp/perf/prof; --log: every statement with its duration in the PostgreSQL log
//   --full-mix: the full bench scale's runs (20k flow runs, 100k task runs) instead of versions/50 and versions/10;
//   at 100k versions 160k of its 260k events are run events, the mix `npm run bench -- --scale full` ingests first
//   --large-mix: the large bench scale's runs (200k flow runs, 1M task runs), the mix of `npm run bench -- --scale large`'s first 1M versions
//   --sql FILE: SQL run on the migrated database before the ingest starts (a lever's upper bound, e.g. indexes dropped)
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { Client } from 'pg';
import { up } from '../infra/local';
import { freePort, spawnApp, waitForStatus } from '../infra/local/apps';
import { createDatabase } from '../infra/local/postgres';
import { cpuSeconds } from './cpu';
import { artifactEvents, runEvents, Scale, SCALES, Produced } from './dataset';
import { BENCH_POSTGRES_SETTINGS, batchTotals, log } from './world';
import { createTopicsSettled } from '@app/contracts';
import { openDatabase } from '@app/persistence';

async function main() {
  const versions = Number(process.argv[2] ?? 100_000);
  const prof = process.argv.includes('--prof');
  const env = Object.fromEntries(process.argv.filter((a) => a.includes('=')).map((a) => a.split('=') as [string, string]));
  const sqlFile = process.argv.includes('--sql') ? process.argv[process.argv.indexOf('--sql') + 1] : undefined;
  const dir = '/tmp/perf-infra';
  mkdirSync(dir, { recursive: true });
  const infra = await up({ dir, persistent: true, kafkaPartitions: 6, postgresSettings: BENCH_POSTGRES_SETTINGS });
  const kafka = new Kafka({ clientId: 'prof', brokers: infra.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const mix = process.argv.includes('--large-mix') ? SCALES.large : process.argv.includes('--full-mix') ? SCALES.full : undefined;
  const prefix = mix ? `prof${mix.name === 'full' ? 'mix' : mix.name}` : 'prof';
  const topics = { artifacts: `${prefix}-${versions}.artifacts`, runs: `${prefix}-${versions}.runs` };
  const admin = kafka.admin();
  await admin.connect();
  const existing = await admin.listTopics();
  if (!existing.includes(topics.artifacts)) {
    await createTopicsSettled(admin, [topics.artifacts, topics.runs, `${topics.artifacts}.dlq`, `${topics.runs}.dlq`].map((topic) => ({ topic, numPartitions: 6 })));
    const scale: Scale = { name: 'small', versions, block: versions, runs: mix?.runs ?? versions / 50, taskRuns: mix?.taskRuns ?? versions / 10, checkpoint: 0, queryDurationSeconds: 0, warmupSeconds: 0, peerDurationSeconds: 0, freshnessSeconds: 0 };
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const all: Produced[] = [...runEvents(scale, topics), ...artifactEvents(scale, topics, 0, versions)];
    for (let i = 0; i < all.length; i += 2000) {
      const byTopic = new Map<string, Produced['message'][]>();
      for (const e of all.slice(i, i + 2000)) byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), e.message]);
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
    await producer.disconnect();
    log(`produced ${all.length}`);
  }
  const hwm = new Map<string, bigint>();
  for (const t of [topics.artifacts, topics.runs]) for (const p of await admin.fetchTopicOffsets(t)) hwm.set(`${t}:${p.partition}`, BigInt(p.high));
  await admin.disconnect();
  const total = [...hwm.values()].reduce((a, b) => a + b, 0n);
  const suffix = randomBytes(3).toString('hex');
  const database = await createDatabase(infra.DATABASE_URL, `prof_${suffix}`);
  const pgAdmin = new Client({ connectionString: infra.DATABASE_URL });
  await pgAdmin.connect();
  if (process.argv.includes('--log')) await pgAdmin.query(`ALTER DATABASE prof_${suffix} SET log_min_duration_statement = 0`);
  const u = new URL(database.url);
  if (sqlFile) {
    const migrated = await openDatabase({ url: database.url, applicationName: 'profile-ingest' });
    await migrated.query(readFileSync(sqlFile, 'utf8'));
    await migrated.destroy();
    log(`ran ${sqlFile}`);
  }
  if (!existsSync('/tmp/perf/prof')) mkdirSync('/tmp/perf/prof', { recursive: true });
  const app = spawnApp('ingest', {
    DATABASE_URL: u.toString(), KAFKA_BROKERS: infra.KAFKA_BROKERS, ARTIFACT_TOPIC: topics.artifacts, RUN_TOPIC: topics.runs,
    KAFKA_GROUP_ID: `prof-${suffix}`, LOG_LEVEL: 'warn', INGEST_PORT: String(await freePort()),
    NODE_OPTIONS: ['--max-semi-space-size=64', ...(prof ? ['--cpu-prof', '--cpu-prof-dir=/tmp/perf/prof'] : [])].join(' '), ...env,
  });
  await waitForStatus(app, '/health', 200, 120_000);
  const pg = new Client({ connectionString: u.toString() });
  await pg.connect();
  const cpu = () => [cpuSeconds(infra.started.postgres?.pid, true) ?? NaN, cpuSeconds(infra.started.kafka?.pid) ?? NaN, cpuSeconds(app.child.pid) ?? NaN];
  const cpu0 = cpu();
  const started = Date.now();
  for (;;) {
    const { rows } = await pg.query<{ s: string }>('SELECT coalesce(sum(next_offset),0)::text AS s FROM consumer_checkpoint');
    if (BigInt(rows[0]!.s) >= total) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (Date.now() - started) / 1000;
  const cpu1 = cpu();
  log(`cpu seconds: postgres ${(cpu1[0]! - cpu0[0]!).toFixed(1)} kafka ${(cpu1[1]! - cpu0[1]!).toFixed(1)} node ${(cpu1[2]! - cpu0[2]!).toFixed(1)}`);
  const { batches, messages, seconds: batchSeconds } = await batchTotals(app);
  log(JSON.stringify({ events: Number(total), seconds, eps: Math.round(Number(total) / seconds), batches, mean_batch: Math.round(messages / batches), mean_batch_ms: Math.round((batchSeconds / batches) * 1000), env }));
  await app.stop();
  await pg.end();
  if (!process.argv.includes("--keep")) await database.drop();
  else log(`kept database prof_${suffix}`);
  await pgAdmin.end();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
