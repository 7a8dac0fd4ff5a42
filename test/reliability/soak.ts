// npm run soak [-- --minutes 60 --rate 300 --kill-every 120 --broker-down 30 --check-every 10]
// Not part of CI. On a private Kafka broker and PostgreSQL (throw-away, started and
// stopped here), runs two ingest instances and the query app for --minutes under a
// steady mixed workload and a query load, kills an ingest instance with SIGKILL every
// --kill-every seconds (restarting it), and stops the broker for --broker-down seconds
// once, half-way. Every --check-every minutes and at the end it pauses the producer,
// waits for the ingest to catch up, and compares the tables with the oracle row for
// row. Prints resident memory over time, query latency (p50/p99) and the mismatches
// (which must be 0); exits non-zero on any mismatch. Needs `npm run build` first.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { compareTables, TopicFollower } from './support/oracle';
import { Workload } from './support/workload';
import { Load, World } from './support/world';

const ROOT = join(__dirname, '..', '..');

interface Options {
  minutes: number;
  rate: number;
  killEvery: number;
  brokerDown: number;
  checkEvery: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { minutes: 60, rate: 300, killEvery: 120, brokerDown: 30, checkEvery: 10 };
  const names: Record<string, keyof Options> = { '--minutes': 'minutes', '--rate': 'rate', '--kill-every': 'killEvery', '--broker-down': 'brokerDown', '--check-every': 'checkEvery' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i] ?? ''];
    const value = Number(argv[i + 1]);
    if (!name || !Number.isFinite(value) || value <= 0) throw new Error(`usage: npm run soak -- [${Object.keys(names).join(' N] [')} N]`);
    options[name] = value;
  }
  return options;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function rssMiB(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

const QUERIES: [string, unknown][] = [
  ['/api/artifacts/latest/filter', { limit: 50, sort: 'UPDATED_DESC' }],
  ['/api/artifacts/latest/filter', { limit: 10, artifacts: { key: { any_: ['k-1', 'k-2', 'k-3'] } } }],
  ['/api/artifacts/filter', { limit: 20, sort: 'CREATED_DESC', artifacts: { type: { any_: ['markdown'] } } }],
  ['/api/artifacts/latest/count', {}],
  ['/api/artifacts/count', { flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }],
];

// Four loops of POSTs, 25 ms apart; every 250 ms the latencies (ms) of the 200s and the count of the rest go to the parent.
const QUERY_LOOPS = `
const { parentPort, workerData } = require('node:worker_threads');
let running = true;
let latencies = [];
let errors = 0;
const flush = () => { parentPort.postMessage({ latencies, errors }); latencies = []; errors = 0; };
const timer = setInterval(flush, 250);
parentPort.on('message', () => { running = false; });
const loops = Array.from({ length: workerData.loops }, async (_, loop) => {
  for (let i = loop; running; i++) {
    const [path, body] = workerData.queries[i % workerData.queries.length];
    const started = performance.now();
    try {
      const response = await fetch(workerData.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await response.arrayBuffer();
      if (response.status === 200) latencies.push(performance.now() - started);
      else errors++;
    } catch {
      errors++;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
});
Promise.all(loops).then(() => { clearInterval(timer); flush(); parentPort.close(); });
`;

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  for (const app of ['ingest', 'query']) {
    if (!existsSync(join(ROOT, 'dist', 'apps', app, 'main.js'))) throw new Error(`dist/apps/${app}/main.js is missing: run npm run build first`);
  }
  log(`starting a private Kafka and PostgreSQL; ${options.minutes} min at ${options.rate} events/s, kill -9 every ${options.killEvery} s, broker down ${options.brokerDown} s half-way`);
  const world = await World.create('soak', { private: true });
  const ingests: AppProcess[] = [];
  let query: AppProcess | undefined;
  let follower: TopicFollower | undefined;
  const samples: { minute: number; events: number; rss: Record<string, number | null>; p50: number; p99: number; queries: number; errors: number }[] = [];
  const checks: { minute: number; rows: number; mismatches: number }[] = [];
  let kills = 0;
  let brokerRestarts = 0;
  const latencies: number[] = [];
  const allLatencies: number[] = [];
  let queryErrors = 0;
  try {
    ingests.push(await world.startIngest(), await world.startIngest());
    query = spawnApp('query', { DATABASE_URL: world.infra.databaseUrl, QUERY_PORT: String(await freePort()) });
    await waitForStatus(query, '/api/ready', 200);
    follower = await TopicFollower.start(world.infra.brokers, world.topics);
    const workload = new Workload(Date.now() & 0xffff);
    let load = new Load(world, workload, options.rate);
    let produced = 0;

    // The query loops run in a worker thread: their latencies must not include this
    // process's own work (producing, folding the oracle, comparing tables).
    const queryWorker = new Worker(QUERY_LOOPS, { eval: true, workerData: { url: query.url, queries: QUERIES, loops: 4 } });
    queryWorker.on('message', (m: { latencies: number[]; errors: number }) => {
      latencies.push(...m.latencies);
      queryErrors += m.errors;
    });

    const started = Date.now();
    const end = started + options.minutes * 60_000;
    let nextKill = started + options.killEvery * 1000;
    let nextSample = started + 60_000;
    let nextCheck = started + options.checkEvery * 60_000;
    let brokerDone = false;
    const check = async (minute: number) => {
      produced += await load.stop();
      await world.waitDrained(300_000);
      await follower!.reach(await world.highs(), 300_000);
      const diff = compareTables(follower!.tables(), await world.tables());
      checks.push({ minute, rows: diff.rows, mismatches: diff.mismatches });
      log(`check at minute ${minute}: ${diff.rows} rows, ${diff.mismatches} mismatches${diff.mismatches ? `\n${diff.report}` : ''}`);
      load = new Load(world, workload, options.rate);
    };
    while (Date.now() < end) {
      await sleep(1000);
      const now = Date.now();
      if (now >= nextSample) {
        const sorted = latencies.splice(0).sort((a, b) => a - b);
        allLatencies.push(...sorted);
        const rss: Record<string, number | null> = { query: rssMiB(query.child.pid) };
        ingests.forEach((app, i) => (rss[`ingest${i}`] = rssMiB(app.child.pid)));
        const minute = Math.round((now - started) / 60_000);
        samples.push({ minute, events: produced + load.produced, rss, p50: percentile(sorted, 50), p99: percentile(sorted, 99), queries: sorted.length, errors: queryErrors });
        log(`minute ${minute}: ${produced + load.produced} events, rss ${JSON.stringify(rss)} MiB, query p50 ${percentile(sorted, 50)} ms p99 ${percentile(sorted, 99)} ms (${sorted.length} ok, ${queryErrors} failed so far)`);
        nextSample += 60_000;
      }
      if (now >= nextKill) {
        const victim = Math.floor(Math.random() * ingests.length);
        await ingests[victim]!.kill9();
        ingests[victim] = await world.startIngest();
        kills++;
        log(`kill -9 ingest #${victim} (${kills} so far), restarted`);
        nextKill += options.killEvery * 1000;
      }
      if (!brokerDone && now >= started + (end - started) / 2) {
        brokerDone = true;
        log(`stopping the broker for ${options.brokerDown} s`);
        await world.own.stopKafka();
        await sleep(options.brokerDown * 1000);
        await world.own.startKafka();
        brokerRestarts++;
        log('broker back');
      }
      if (now >= nextCheck && now < end) {
        await check(Math.round((now - started) / 60_000));
        nextCheck += options.checkEvery * 60_000;
      }
    }
    await check(options.minutes);
    await new Promise((resolve) => {
      queryWorker.once('exit', resolve);
      queryWorker.postMessage('stop');
    });
    allLatencies.push(...latencies.splice(0));
    allLatencies.sort((a, b) => a - b);
    const mismatches = checks.reduce((sum, c) => sum + c.mismatches, 0);
    const summary = {
      minutes: options.minutes,
      events: produced,
      kills,
      brokerRestarts,
      checks: checks.length,
      mismatches,
      queries: allLatencies.length,
      queryErrors,
      queryP50Ms: percentile(allLatencies, 50),
      queryP99Ms: percentile(allLatencies, 99),
      rssMiB: samples.map((s) => ({ minute: s.minute, ...s.rss })),
      samples,
      checkResults: checks,
    };
    const dir = join(ROOT, 'test-artifacts', 'reliability');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'soak.json'), `${JSON.stringify(summary, null, 2)}\n`);
    log(`done: ${produced} events, ${kills} kill -9, ${brokerRestarts} broker restart(s), ${checks.length} checks, mismatches ${mismatches}, query p50 ${summary.queryP50Ms} ms p99 ${summary.queryP99Ms} ms (${queryErrors} queries failed)`);
    log('resident memory (MiB) by minute:');
    for (const s of samples) log(`  ${String(s.minute).padStart(3)}  ${Object.entries(s.rss).map(([k, v]) => `${k}=${v ?? '-'}`).join('  ')}  p99=${s.p99} ms`);
    process.stdout.write(`${JSON.stringify({ ...summary, samples: undefined, rssMiB: undefined })}\n`);
    if (mismatches > 0) process.exitCode = 1;
  } finally {
    await follower?.stop();
    await query?.stop().catch(() => undefined);
    await world.close();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: Error) => {
    process.stderr.write(`soak: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
