// npm run bench:push [-- --subscriptions 100 --rate 1000 --seconds 20 --warmup 10]: push latency
// of the subscriptions (issue #15), from the produce acknowledgement to the upsert event at the
// client, with mixed filters, and the query app's CPU per event per subscription. A probe: the
// defaults are small; the figures (1,000 events/s, 100 and 1,000 subscriptions) need a
// quiet machine. Where the time goes: for each event, the ingest transaction that applied it
// started and committed (PostgreSQL's commit timestamps) between the acknowledgement and the
// first upsert of its key at the client.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { IncomingMessage, request } from 'node:http';
import { Client } from 'pg';
import { encodeEvent } from '@app/contracts';
import { compilerCpuSeconds, cpuSeconds, startCpuMeter } from './cpu';
import { percentile, round } from './stats';
import { log, openBenchWorld, option } from './world';

const TYPES = ['markdown', 'table', 'link', 'progress'];

type Filter = { body: unknown; matches: (key: string, type: string) => boolean };

/** The key of the n-th event: 1,000 prefixes (`p0-` ... `p999-`), one per run a dashboard might watch. */
const keyOf = (n: number): string => `p${n % 1000}-${n}`;
/** The warm-up's keys: no key prefix filter matches them, and they are not measured. */
const warmupKeyOf = (n: number): string => `w${n}`;

/**
 * `broad`: a quarter each of all keys, one type, two types and one of five key prefixes (8 distinct
 * filters; an event reaches about 46% of the subscriptions).
 * `dashboard`: 1% all keys, 3% one type, 96% one run's key prefix (every one distinct); an event
 * reaches about 2% of the subscriptions, the share of an ops dashboard's views that show it.
 */
function filterOf(i: number, mix: string): Filter {
  const all: Filter = { body: {}, matches: () => true };
  const oneType = (t: string): Filter => ({ body: { artifacts: { type: { any_: [t] } } }, matches: (_k, type) => type === t });
  const prefix = (p: string): Filter => ({ body: { artifacts: { key: { like_: p } } }, matches: (k) => k.includes(p) });
  if (mix === 'dashboard') {
    if (i % 100 === 0) return all;
    if (i % 100 <= 3) return oneType(TYPES[i % TYPES.length]!);
    return prefix(`p${i % 1000}-`);
  }
  if (mix !== 'broad') throw new Error(`--mix is broad or dashboard, got ${mix}`);
  switch (i % 4) {
    case 0:
      return all;
    case 1:
      return oneType(TYPES[i % TYPES.length]!);
    case 2:
      return { body: { artifacts: { type: { any_: TYPES.slice(0, 2) } } }, matches: (_k, t) => TYPES.slice(0, 2).includes(t) };
    default:
      return prefix(`p${i % 10}`);
  }
}

/**
 * Calls `onUpsert(key, at)` for each upsert event of a subscription. The client shares the cores
 * with everything it measures, so it reads as little as it can: node:http rather than fetch, and
 * the key cut out of the frame (the collection row's first `"key":"` field) rather than parsed.
 */
async function subscribe(url: string, body: unknown, onUpsert: (key: string, at: number) => void, signal: AbortSignal, onEnd: () => void): Promise<void> {
  const payload = JSON.stringify(body);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(`${url}/api/artifacts/latest/subscribe`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, signal }, resolve);
    req.on('error', reject);
    req.end(payload);
  });
  if (response.statusCode !== 200) throw new Error(`subscribe answered ${response.statusCode}`);
  response.setEncoding('utf8');
  let ready: () => void = () => undefined;
  const snapshot = new Promise<void>((resolve) => (ready = resolve));
  let buffer = '';
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let start = 0;
    let end: number;
    while ((end = buffer.indexOf('\n\n', start)) >= 0) {
      if (buffer.startsWith('event: upsert', start)) {
        const at = buffer.indexOf('"key":"', start) + 7;
        onUpsert(buffer.slice(at, buffer.indexOf('"', at)), performance.now());
      } else if (buffer.startsWith('event: snapshot', start)) ready();
      start = end + 2;
    }
    buffer = buffer.slice(start);
  });
  // The server ended the stream: a client too far behind (more than 8 MiB unsent) is let go.
  response.on('end', () => {
    if (!signal.aborted) onEnd();
  });
  response.on('error', () => undefined);
  await snapshot;
}

async function main(): Promise<void> {
  const subscriptions = Number(option('subscriptions', '20'));
  const rate = Number(option('rate', '100'));
  const seconds = Number(option('seconds', '10'));
  const mix = option('mix', 'broad');
  // The servers it starts are cold: the same load first, unmeasured, for at least --warmup seconds
  // and, when this bench started the broker, until its JIT compilers are done (bench/README.md).
  const warmupSeconds = Number(option('warmup', '10'));
  const world = await openBenchWorld({ name: 'push', persistent: false, postgresSettings: { track_commit_timestamp: 'on' } });
  const { topics, producer } = world;
  const stop = new AbortController();
  // One signal aborts every subscription at the end.
  setMaxListeners(0, stop.signal);
  try {
    const ingest = await world.startApp('ingest');
    const query = await world.startApp('query');

    const acked = new Map<string, number>();
    const ackedAt = new Map<string, number>();
    const firstSeen = new Map<string, number>();
    const latencies: number[] = [];
    // An upsert read before this process ran the producer's acknowledgement (its event loop busy
    // with the streams) is counted apart: its latency is not measurable from the acknowledgement.
    let beforeAck = 0;
    let ended = 0;
    let expected = 0;
    const filters = Array.from({ length: subscriptions }, (_, i) => filterOf(i, mix));
    await Promise.all(
      filters.map((f) =>
        subscribe(query.url, f.body, (key, at) => {
          if (key.startsWith('w')) return;
          if (!firstSeen.has(key)) firstSeen.set(key, Date.now());
          const sent = acked.get(key);
          if (sent !== undefined) latencies.push(at - sent);
          else beforeAck++;
        }, stop.signal, () => ended++),
      ),
    );
    const tickMs = 20;
    const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
    let n = 0;
    let warm = 0;
    /** Produces `rate` events a second for `forSeconds`, in 20 ms sends; `measured` ones are expected and timed. */
    const produce = async (forSeconds: number, measured: boolean): Promise<void> => {
      const started = performance.now();
      const sends: Promise<void>[] = [];
      for (let tick = 0; performance.now() - started < forSeconds * 1000; tick++) {
        const batch = Array.from({ length: perTick }, (_, i) => {
          const key = measured ? keyOf(n) : warmupKeyOf(warm++);
          const type = TYPES[(measured ? n++ : i) % TYPES.length]!;
          if (measured) expected += filters.filter((f) => f.matches(key, type)).length;
          return { key, message: encodeEvent('prefect.artifact.created', { id: randomUUID(), key, type, data: key, created: new Date().toISOString() }) };
        });
        sends.push(
          producer.send({ topic: topics.artifacts, acks: -1, messages: batch.map((b) => b.message) }).then(() => {
            if (!measured) return;
            const now = performance.now();
            const wall = Date.now();
            for (const b of batch) {
              acked.set(b.key, now);
              ackedAt.set(b.key, wall);
            }
          }),
        );
        const wait = started + (tick + 1) * tickMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      await Promise.all(sends);
    };
    const kafkaPid = world.started?.kafkaPid;
    const warmupStarted = performance.now();
    if (warmupSeconds > 0) {
      log(`${subscriptions} subscriptions open; warming up at ${rate} events/s for at least ${warmupSeconds} s`);
      await produce(warmupSeconds, false);
    }
    // A broker this bench started spends its first minute compiling (half a core and more): warm up
    // on until its JIT compilers used under 0.1 s in the last 5 s, for at most 2 minutes more.
    for (let more = 0; more < 24; more++) {
      const before = compilerCpuSeconds(kafkaPid);
      if (before === undefined) break;
      await produce(5, false);
      if ((compilerCpuSeconds(kafkaPid) ?? 0) - before < 0.1) break;
    }
    const warmedSeconds = (performance.now() - warmupStarted) / 1000;
    log(`producing ${rate} events/s for ${seconds} s`);
    const cpuBefore = cpuSeconds(query.child.pid);
    const clientBefore = process.cpuUsage();
    const meter = startCpuMeter({ kafka: { pid: kafkaPid }, postgres: { pid: world.started?.postgresPid, tree: true }, ingest: { pid: ingest.child.pid }, query: { pid: query.child.pid } });
    const compilerBefore = compilerCpuSeconds(kafkaPid);
    await produce(seconds, true);
    const window = meter.stop();
    const compiler = (compilerCpuSeconds(kafkaPid) ?? NaN) - (compilerBefore ?? NaN);
    const deadline = performance.now() + 60_000;
    while (latencies.length + beforeAck < expected && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const cpu = (cpuSeconds(query.child.pid) ?? NaN) - (cpuBefore ?? NaN);
    const client = process.cpuUsage(clientBefore);
    const sorted = latencies.sort((a, b) => a - b);
    const figures = {
      subscriptions,
      mix,
      distinct_filters: new Set(filters.map((f) => JSON.stringify(f.body))).size,
      events: n,
      events_per_second: round(n / seconds),
      deliveries_expected: expected,
      deliveries_received: sorted.length + beforeAck,
      deliveries_before_ack: beforeAck,
      streams_ended_by_server: ended,
      push_p50_ms: round(percentile(sorted, 50)),
      push_p99_ms: round(percentile(sorted, 99)),
      query_cpu_seconds: round(cpu),
      query_cpu_us_per_event_per_subscription: round((cpu * 1e6) / (n * subscriptions)),
      // This process (producer and the subscriptions' client), which shares the cores it measures.
      client_cpu_seconds: round((client.user + client.system) / 1e6),
      warmup_seconds: round(warmedSeconds),
      // Over the measured produce window, per server this bench started (null: not started here).
      window_cpu_seconds: { ...window, kafka_jit_compilers: Number.isNaN(compiler) ? null : round(compiler) },
      stages: await stages(world.databaseUrl, ackedAt, firstSeen),
    };
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    stop.abort();
    await world.close();
  }
}

type Stage = { p50_ms: number; p90_ms: number; p99_ms: number };

/**
 * Per measured event (its key's first upsert at the client): acknowledgement to the start of the
 * ingest transaction that applied it (Kafka delivery and the wait for a transaction), that
 * transaction's start to its commit, and the commit to the client (the query app's feed and the
 * client's own event loop). Wall clocks of one machine; undefined when the server does not keep
 * commit timestamps (`track_commit_timestamp`, set by the servers this bench starts).
 */
async function stages(databaseUrl: string, ackedAt: Map<string, number>, firstSeen: Map<string, number>): Promise<Record<string, Stage> | undefined> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: setting } = await client.query<{ on: string }>("SELECT current_setting('track_commit_timestamp') AS on");
    if (setting[0]?.on !== 'on') return undefined;
    const { rows } = await client.query<{ key: string; started: number; committed: number }>(
      `SELECT key, extract(epoch FROM min(changed_at)) * 1000 AS started, extract(epoch FROM min(pg_xact_commit_timestamp((xid::text::bigint % 4294967296)::text::xid))) * 1000 AS committed
       FROM collection_change WHERE key LIKE 'p%' GROUP BY key`,
    );
    const spans = { ack_to_transaction_start: [] as number[], transaction: [] as number[], commit_to_client: [] as number[] };
    for (const row of rows) {
      const acked = ackedAt.get(row.key);
      const seen = firstSeen.get(row.key);
      if (acked === undefined || seen === undefined) continue;
      spans.ack_to_transaction_start.push(Number(row.started) - acked);
      spans.transaction.push(Number(row.committed) - Number(row.started));
      spans.commit_to_client.push(seen - Number(row.committed));
    }
    const figures = (values: number[]): Stage => {
      const sorted = values.sort((a, b) => a - b);
      return { p50_ms: round(percentile(sorted, 50)), p90_ms: round(percentile(sorted, 90)), p99_ms: round(percentile(sorted, 99)) };
    };
    return Object.fromEntries(Object.entries(spans).map(([name, values]) => [name, figures(values)]));
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  log(`bench:push failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
