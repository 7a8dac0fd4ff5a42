// npm run bench [-- --scale small|full|large] [--peer prefect]: ingest throughput against the
// Kafka read and PostgreSQL COPY ceilings, freshness, and the query mix against the
// database floor, at two sizes, and with --peer the same mix against Prefect's own server
// holding the same rows. Prints a table and writes bench/results/latest.json.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { Kafka, Producer } from 'kafkajs';
import { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { waitForStatus, AppProcess } from '../infra/local/apps';
import { createDatabase } from '../infra/local/postgres';
import { artifactEvents, Produced, runEvents, Scale, SCALES, Topics } from './dataset';
import { startCpuMeter } from './cpu';
import { Progress } from './progress';
import { comparePeer, PeerFigures } from './peer';
import { measureQueries, QueryFigures } from './queries';
import { percentile, round } from './stats';
import { EncodedMessage, encodeConsistencyToken, encodeEvent, offsetsOfSend } from '@app/contracts';
import { BENCH_POSTGRES_SETTINGS, batchTotals, log, openBenchWorld, option } from './world';

const ROOT = join(__dirname, '..');
const TABLES = ['artifact', 'artifact_collection', 'flow', 'deployment', 'flow_run', 'task_run'];

function kafkajsVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('kafkajs/package.json'), 'utf8')) as { version: string }).version;
}

async function produceAll(producer: Producer, events: Iterable<Produced>, total: number, label: string): Promise<number> {
  const progress = new Progress(label, total);
  const pending = new Map<string, Produced['message'][]>();
  const inFlight = new Set<Promise<void>>();
  let count = 0;
  const flush = async (topic: string) => {
    const messages = pending.get(topic);
    if (!messages?.length) return;
    pending.set(topic, []);
    const send = producer.send({ topic, acks: -1, messages }).then(() => progress.tick(messages.length));
    inFlight.add(send);
    void send.finally(() => inFlight.delete(send));
    if (inFlight.size >= 4) await Promise.race(inFlight);
  };
  for (const event of events) {
    const list = pending.get(event.topic) ?? [];
    list.push(event.message);
    pending.set(event.topic, list);
    count++;
    if (list.length >= 1000) await flush(event.topic);
  }
  for (const topic of pending.keys()) await flush(topic);
  await Promise.all(inFlight);
  progress.finish();
  return count;
}

async function highWatermarks(kafka: Kafka, topics: string[]): Promise<Map<string, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out = new Map<string, bigint>();
    for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) out.set(`${topic}:${p.partition}`, BigInt(p.high));
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** Seconds from the ingest app's consumer connecting to every checkpoint reaching the high-water marks. */
async function timeIngest(app: AppProcess, pg: Client, group: string, hwm: Map<string, bigint>, label: string, events: number): Promise<number> {
  await waitForStatus(app, '/health', 200, 120_000);
  const started = Date.now();
  const target = [...hwm.values()].reduce((a, b) => a + b, 0n);
  const progress = new Progress(label, events);
  const base = Number(target) - events;
  for (;;) {
    const { rows } = await pg.query<{ topic: string; partition: number; next_offset: string }>('SELECT topic, partition, next_offset FROM consumer_checkpoint WHERE group_id = $1', [group]);
    const done = rows.reduce((sum, r) => sum + BigInt(r.next_offset), 0n);
    progress.set(Math.max(0, Number(done) - base));
    const caughtUp = [...hwm.entries()].every(([k, high]) => {
      const row = rows.find((r) => `${r.topic}:${r.partition}` === k);
      return high === 0n || (row !== undefined && BigInt(row.next_offset) >= high);
    });
    if (caughtUp) break;
    if (app.child.exitCode !== null) throw new Error(`ingest exited: ${app.output().slice(-1000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  progress.finish();
  return (Date.now() - started) / 1000;
}

async function kafkaCeiling(kafka: Kafka, topics: string[], total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-ceiling-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 250, maxBytes: 16 * 1024 * 1024, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const progress = new Progress('kafka read ceiling', total);
  let seen = 0;
  let started = 0;
  const seconds = await new Promise<number>((resolve, reject) => {
    consumer
      .run({
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          if (started === 0) started = Date.now();
          seen += batch.messages.length;
          progress.tick(batch.messages.length);
          if (seen >= total) resolve((Date.now() - started) / 1000);
        },
      })
      .catch(reject);
  });
  progress.finish();
  await consumer.disconnect();
  return seconds;
}

/** COPY of the final rows into empty tables with the same indexes: the PostgreSQL write ceiling. */
async function copyCeiling(sourceUrl: string, serverUrl: string, postgresPid: number | undefined): Promise<{ seconds: number; rows: number; postgresCpu: number | null }> {
  // Dumped to files first (10M versions do not fit in one buffer), so that only the COPY in is timed.
  const dir = mkdtempSync(join(tmpdir(), 'bench-copy-'));
  const source = new Client({ connectionString: sourceUrl });
  await source.connect();
  let rows = 0;
  try {
    for (const table of TABLES) {
      await pipeline(source.query(copyTo(`COPY ${table} TO STDOUT`)), createWriteStream(join(dir, table)));
      rows += Number((await source.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    }
    await source.end();
    const database = await createDatabase(serverUrl, `bench_copy_${randomBytes(4).toString('hex')}`);
    const targetUrl = new URL(database.url);
    // Empty tables with the same indexes: run the migrations.
    const { openDatabase } = await import('@app/persistence');
    const ds = await openDatabase({ url: targetUrl.toString(), applicationName: 'bench-copy', poolSize: 1 });
    await ds.destroy();
    const target = new Client({ connectionString: targetUrl.toString() });
    await target.connect();
    const meter = startCpuMeter({ postgres: { pid: postgresPid, tree: true } });
    const started = Date.now();
    await target.query('BEGIN');
    for (const table of TABLES) await pipeline(createReadStream(join(dir, table)), target.query(copyFrom(`COPY ${table} FROM STDIN`)));
    await target.query('COMMIT');
    const seconds = (Date.now() - started) / 1000;
    const postgresCpu = meter.stop().postgres ?? null;
    await target.end();
    await database.drop();
    return { seconds, rows, postgresCpu };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each read-model table's rows, heap and index bytes, and each of its indexes' bytes. */
async function tableSizes(databaseUrl: string): Promise<Record<string, { rows: number; table_bytes: number; index_bytes: number; indexes: Record<string, number> }>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const out: Awaited<ReturnType<typeof tableSizes>> = {};
    for (const table of TABLES) {
      const { rows } = await client.query<{ rows: string; table_bytes: string; index_bytes: string }>(
        'SELECT (SELECT count(*) FROM ' + table + ') AS rows, pg_table_size($1::regclass) AS table_bytes, pg_indexes_size($1::regclass) AS index_bytes',
        [table],
      );
      const { rows: indexes } = await client.query<{ name: string; bytes: string }>(
        'SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS bytes FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1',
        [table],
      );
      out[table] = { rows: Number(rows[0]!.rows), table_bytes: Number(rows[0]!.table_bytes), index_bytes: Number(rows[0]!.index_bytes), indexes: Object.fromEntries(indexes.map((i) => [i.name, Number(i.bytes)])) };
    }
    return out;
  } finally {
    await client.end();
  }
}

/** Produce-acknowledged to visible through GET /api/artifacts/{key}/latest, at a steady rate. */
interface Latencies {
  samples: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

function latencyFigures(latencies: number[]): Latencies {
  latencies.sort((a, b) => a - b);
  return { samples: latencies.length, p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)), max_ms: round(latencies[latencies.length - 1] ?? NaN) };
}

/**
 * Read your writes (docs/api.md, "Consistency tokens"): just after a send's
 * acknowledgement, the same read with and without the send's token, at once. The token's
 * cost is the difference. A tokened 200 older than the write counts as stale (must be 0;
 * a later write of the same key may already show), a 504 as timed out.
 */
async function readYourWrites(queryUrl: string, key: string, probe: number, token: string, out: { plain: number[]; tokened: number[]; stale: number; timedOut: number }): Promise<void> {
  const timed = async (headers: Record<string, string>) => {
    const started = process.hrtime.bigint();
    const res = await fetch(`${queryUrl}/api/artifacts/${key}/latest`, { headers });
    const body = res.ok ? ((await res.json()) as { description: string }) : (await res.arrayBuffer(), undefined);
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.status, probe: Number(body?.description.replace('probe ', '') ?? -1) };
  };
  const [plain, tokened] = await Promise.all([timed({}), timed({ 'x-consistency-token': token })]);
  out.plain.push(plain.ms);
  if (tokened.status === 504) out.timedOut++;
  else if (tokened.probe < probe) out.stale++;
  else out.tokened.push(tokened.ms);
}

async function freshness(
  producer: Producer,
  topics: Topics,
  queryUrl: string,
  scale: Scale,
): Promise<{ rate: number; seconds: number; events: number } & Latencies & { read_your_writes: { stale: number; timed_out: number; plain: Latencies; with_token: Latencies; extra_p50_ms: number; extra_p99_ms: number } }> {
  const rate = 1000;
  const latencies: number[] = [];
  const ryw = { plain: [] as number[], tokened: [] as number[], stale: 0, timedOut: 0 };
  const probes: Promise<void>[] = [];
  const started = Date.now();
  let n = 0;
  const progress = new Progress('freshness', scale.freshnessSeconds * rate);
  while (Date.now() - started < scale.freshnessSeconds * 1000) {
    const tickStart = Date.now();
    const messages: EncodedMessage[] = [];
    for (let i = 0; i < rate / 10; i++, n++) {
      const key = `fresh-${n % 500}`;
      const created = new Date(Date.parse('2027-01-01T00:00:00Z') + n).toISOString();
      messages.push(encodeEvent('prefect.artifact.created', { id: randomUUIDish(n), key, type: 'markdown', description: `probe ${n}`, data: n, created, updated: created }));
    }
    const probeIndex = n - 1;
    // Not awaited: the rate stays steady however long an acknowledgement takes.
    const sent = producer.send({ topic: topics.artifacts, acks: -1, messages }).then(async (answer) => {
      const acked = process.hrtime.bigint();
      const key = `fresh-${probeIndex % 500}`;
      const offsets = offsetsOfSend(topics.artifacts, messages, answer);
      if (offsets === undefined) throw new Error('a bench send gave no exact offsets');
      const token = encodeConsistencyToken(offsets);
      const tokenProbe = readYourWrites(queryUrl, key, probeIndex, token, ryw);
      for (let tries = 0; tries < 2000; tries++) {
        const res = await fetch(`${queryUrl}/api/artifacts/${key}/latest`);
        if (res.ok && ((await res.json()) as { description: string }).description === `probe ${probeIndex}`) {
          latencies.push(Number(process.hrtime.bigint() - acked) / 1e6);
          return tokenProbe;
        }
        if (!res.ok) await res.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return tokenProbe;
    });
    probes.push(sent);
    progress.tick(messages.length);
    const wait = 100 - (Date.now() - tickStart);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(probes);
  progress.finish();
  const plain = latencyFigures(ryw.plain);
  const withToken = latencyFigures(ryw.tokened);
  return {
    rate,
    seconds: scale.freshnessSeconds,
    events: n,
    ...latencyFigures(latencies),
    read_your_writes: { stale: ryw.stale, timed_out: ryw.timedOut, plain, with_token: withToken, extra_p50_ms: round(withToken.p50_ms - plain.p50_ms), extra_p99_ms: round(withToken.p99_ms - plain.p99_ms) },
  };
}

function randomUUIDish(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `f0000000-0000-4000-8000-${hex.slice(-12)}`;
}

async function main(): Promise<void> {
  const chosen = SCALES[option('scale', 'small') as Scale['name']];
  if (!chosen) throw new Error('--scale must be small, full or large');
  const peer = option('peer', '');
  if (peer !== '' && peer !== 'prefect') throw new Error('--peer must be prefect');
  // Loading 10M versions into Prefect and asking it the mix would take hours.
  if (peer !== '' && chosen.name === 'large') throw new Error('--peer prefect runs at small and full scale');
  // --quick: windows of a fraction of a second and no warm-up, for the test that proves the bench still runs
  // (its figures mean nothing).
  const quick: Scale = process.argv.includes('--quick') ? { ...chosen, queryDurationSeconds: 0.1, queryRequests: 30, warmupSeconds: 0, peerDurationSeconds: 0.3, freshnessSeconds: 2 } : chosen;
  // --freshness-seconds N: a longer (or shorter) freshness and read-your-writes probe at any scale.
  const freshnessSeconds = Number(option('freshness-seconds', String(quick.freshnessSeconds)));
  if (!Number.isInteger(freshnessSeconds) || freshnessSeconds < 1) throw new Error('--freshness-seconds must be a whole number of seconds, at least 1');
  const scale: Scale = { ...quick, freshnessSeconds };
  const resultsFile = option('out', join(ROOT, 'bench', 'results', 'latest.json'));
  const world = await openBenchWorld({ name: 'bench', persistent: true, postgresSettings: BENCH_POSTGRES_SETTINGS });
  const { topics, group, serverUrl, databaseUrl: dbUrl, kafka, producer } = world;
  // The servers' processes, when the bench started them: their CPU time is measured too.
  const servers = { kafka: world.started?.kafkaPid, postgres: world.started?.postgresPid };
  const appEnv = { LOG_LEVEL: 'warn', NODE_OPTIONS: '--max-semi-space-size=64' };
  let postgresVersion = 'unknown';
  const results: Record<string, unknown> = {};
  try {
    const version = new Client({ connectionString: dbUrl });
    await version.connect();
    postgresVersion = String((await version.query('SHOW server_version')).rows[0].server_version);
    await version.end();
    const sizes = [scale.checkpoint, scale.versions];
    const ingestRuns: { size: number; events: number; seconds: number; events_per_second: number; cpu_seconds: Record<string, number | null>; cpu_us_per_event: Record<string, number | null>; batch: { batches: number; messages: number; mean_batch_ms: number; mean_ms_per_1000_events: number } }[] = [];
    const queryRuns: { size: number; queries: QueryFigures[] }[] = [];
    const sizesAt: { size: number; tables: Awaited<ReturnType<typeof tableSizes>> }[] = [];
    let producedTotal = 0;
    let from = 0;
    for (const [i, size] of sizes.entries()) {
      const runsTotal = scale.runs * 3 + scale.taskRuns;
      const artifactsGen = artifactEvents(scale, topics, from, size);
      const total = (i === 0 ? runsTotal : 0) + (size - from);
      const events = i === 0 ? (function* () { yield* runEvents(scale, topics); yield* artifactsGen; })() : artifactsGen;
      const produced = await produceAll(producer, events, total, `produce ${size} versions`);
      producedTotal += produced;
      from = size;
      const hwm = await highWatermarks(kafka, [topics.artifacts, topics.runs]);
      const ingest = await world.startApp('ingest', appEnv);
      const pg = new Client({ connectionString: dbUrl });
      await pg.connect();
      const meter = startCpuMeter({ ingest: { pid: ingest.child.pid }, postgres: { pid: servers.postgres, tree: true }, kafka: { pid: servers.kafka } });
      const seconds = await timeIngest(ingest, pg, group, hwm, `ingest to ${size} versions`, produced);
      const cpu = meter.stop();
      await pg.end();
      const cost = await batchTotals(ingest);
      ingestRuns.push({
        size,
        events: produced,
        seconds: round(seconds, 2),
        events_per_second: Math.round(produced / seconds),
        cpu_seconds: cpu,
        cpu_us_per_event: Object.fromEntries(Object.entries(cpu).map(([name, sec]) => [name, sec === null ? null : round((sec / produced) * 1e6)])),
        batch: { batches: cost.batches, messages: cost.messages, mean_batch_ms: round((cost.seconds / Math.max(1, cost.batches)) * 1000), mean_ms_per_1000_events: round((cost.seconds / Math.max(1, cost.messages)) * 1e6) },
      });
      log(`ingest: ${produced} events in ${seconds.toFixed(1)} s = ${Math.round(produced / seconds)} events/s; CPU seconds ${JSON.stringify(cpu)}`);
      const query = await world.startApp('query', appEnv);
      const pgv = new Client({ connectionString: dbUrl });
      await pgv.connect();
      await pgv.query('VACUUM ANALYZE');
      await pgv.end();
      sizesAt.push({ size, tables: await tableSizes(dbUrl) });
      log(`queries at ${size} versions:`);
      queryRuns.push({ size, queries: await measureQueries(query.url, dbUrl, scale, size, log) });
      // Before the freshness probe, which adds versions Prefect would not hold.
      if (peer && i === sizes.length - 1) {
        results.peer = await comparePeer({ serverUrl, ourDatabaseUrl: dbUrl, queryUrl: query.url, scale, size, ours: queryRuns[i]!.queries, log });
      }
      if (i === sizes.length - 1) {
        results.freshness = await freshness(producer, topics, query.url, scale);
        log(`freshness: ${JSON.stringify(results.freshness)}`);
      }
      await Promise.all([query.stop(), ingest.stop()]);
    }
    const allSeconds = ingestRuns.reduce((s, r) => s + r.seconds, 0);
    const ingestRate = Math.round(producedTotal / allSeconds);
    if (results.peer) (results.peer as PeerFigures).writes.ours_ingest_events_per_second = ingestRate;
    const inTopics = producedTotal + (results.freshness as { events: number }).events;
    const kafkaSeconds = await kafkaCeiling(kafka, [topics.artifacts, topics.runs], inTopics);
    const kafkaRate = Math.round(inTopics / kafkaSeconds);
    log(`kafka read ceiling: ${kafkaRate} events/s`);
    const copy = await copyCeiling(dbUrl, serverUrl, servers.postgres);
    const copyRate = Math.round(producedTotal / copy.seconds);
    log(`postgres COPY ceiling: ${copy.rows} rows in ${copy.seconds.toFixed(1)} s = ${copyRate} events/s equivalent`);
    Object.assign(results, {
      ingest: {
        events: producedTotal,
        seconds: round(allSeconds, 2),
        events_per_second: ingestRate,
        kafka_read_ceiling_events_per_second: kafkaRate,
        copy_ceiling: {
          rows: copy.rows,
          seconds: round(copy.seconds, 2),
          events_per_second: copyRate,
          postgres_cpu_seconds: copy.postgresCpu,
          postgres_cpu_us_per_event: copy.postgresCpu === null ? null : round((copy.postgresCpu / producedTotal) * 1e6),
        },
        ratio_to_kafka_ceiling: round(ingestRate / kafkaRate, 3),
        ratio_to_copy_ceiling: round(ingestRate / copyRate, 3),
        runs: ingestRuns,
      },
      queries: queryRuns,
      // The mix is the same list at both sizes (only the deep offset's value may differ).
      growth: (queryRuns[1]?.queries ?? []).map((large, i) => {
        const small = queryRuns[0]!.queries[i]!;
        return { name: large.name, indexed: large.indexed, [`http_p50_ms_at_${queryRuns[0]!.size}`]: small.http.p50_ms, [`http_p50_ms_at_${queryRuns[1]!.size}`]: large.http.p50_ms, ratio: round(large.http.p50_ms / small.http.p50_ms) };
      }),
      write_cost: ingestRuns.map((r) => ({ size: r.size, ...r.batch })),
      table_sizes: sizesAt,
    });
  } finally {
    await world.close();
  }
  const document = {
    generated_at: new Date().toISOString(),
    scale: scale.name,
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_gib: round(totalmem() / 2 ** 30, 1), node: process.version, platform: `${process.platform} ${process.arch}` },
    postgres_settings: world.started ? BENCH_POSTGRES_SETTINGS : 'an existing server',
    versions: { postgresql: postgresVersion, kafka: world.started?.kafkaVersion ?? 'unknown (an existing broker)', kafkajs: kafkajsVersion() },
    units: { events_per_second: 'events/s', ms: 'milliseconds', rps: 'requests/s', tps: 'statements/s' },
    ...results,
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(document, null, 2)}\n`);
  log(`\nresults written to ${resultsFile}`);
  console.log(JSON.stringify({ ingest_events_per_second: (results.ingest as { events_per_second: number }).events_per_second }));
}

main().catch((error: Error) => {
  process.stderr.write(`bench: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
