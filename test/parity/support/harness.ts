import { randomBytes } from 'node:crypto';
import { request as httpRequest, Agent } from 'node:http';
import { AppProcess, freePort, spawnApp, waitFor, waitForStatus } from '../../support/apps';
import { encodeEvent } from '../../support/conformance';
import { createTestDatabase, TestDatabase } from '../../support/database';
import { connectKafka, requireBrokers, TestKafka } from '../../support/kafka';
import { DEVIATIONS, deviationOf } from '../deviations';
import { Answer, classify } from './compare';
import { ParityRequest, RequestGenerator } from './generator';
import { buildHistory, History } from './history';
import { PrefectServer, startPrefectServer } from './prefect-server';
import { Random } from './random';

// The differential test: the real Prefect server and our ingest + query apps, holding the
// same history, answer the same seeded random requests. Needs DATABASE_URL (a PostgreSQL
// server; each side gets a fresh database of it) and KAFKA_BROKERS.

export interface Outcome {
  request: ParityRequest;
  prefect: Answer;
  ours: Answer;
}

export interface ClassRow {
  name: string;
  count: number;
  /** The shortest request of the class. */
  example: Outcome;
}

export interface DeviationRow {
  id: string;
  what: string;
  count: number;
  /** Requests of the deviation where our answer was not the one written down. */
  broken: { outcome: Outcome; problems: string[] }[];
  example?: Outcome;
}

export interface ParityResult {
  seed: number;
  requests: number;
  agreed: number;
  classes: ClassRow[];
  deviations: DeviationRow[];
  history: { versions: number; liveVersions: number; keys: number; events: number };
  collectionIdsDiffer: boolean;
}

export interface Parity {
  prefect: PrefectServer;
  history: History;
  run(seed: number, requests: number, concurrency?: number): Promise<ParityResult>;
  close(): Promise<void>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** Sends the request as written (raw path: no URL normalisation of `%`, `..` and the like). */
export function send(base: string, r: ParityRequest): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, agent, headers: { ...r.headers, ...(r.body === undefined ? {} : { 'content-length': Buffer.byteLength(r.body) }) }, timeout: 120_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${r.method} ${r.path}`)));
    req.on('error', reject);
    if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}

async function pool<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}

const size = (o: Outcome) => o.request.path.length + (o.request.body?.length ?? 0);

export async function startParity(options: { historySeed: number; operations: number; log?: (line: string) => void }): Promise<Parity> {
  const log = options.log ?? (() => undefined);
  const suffix = randomBytes(4).toString('hex');
  const artifactTopic = `parity-${suffix}.artifacts`;
  const runTopic = `parity-${suffix}.runs`;
  let prefect: PrefectServer | undefined;
  let db: TestDatabase | undefined;
  let kafka: TestKafka | undefined;
  let ingest: AppProcess | undefined;
  let query: AppProcess | undefined;
  const close = async () => {
    await Promise.allSettled([ingest?.stop(), query?.stop(), prefect?.stop()]);
    await kafka?.close().catch(() => undefined);
    await db?.drop().catch(() => undefined);
    agent.destroy();
  };
  try {
    log('starting the Prefect server (a fresh database; its migrations take a while)');
    prefect = await startPrefectServer(process.env.DATABASE_URL ?? '');
    log(`Prefect at ${prefect.url}; creating the history`);
    const history = await buildHistory(prefect.url, { seed: options.historySeed, operations: options.operations });
    const openapi = JSON.parse((await send(prefect.url, { method: 'GET', path: '/api/openapi.json', headers: {}, route: '' })).body);
    log(`history: ${history.versions} versions created, ${history.artifactIds.length} live over ${history.keys.length} keys, ${history.events.length} events`);

    db = await createTestDatabase('parity');
    kafka = await connectKafka();
    ingest = spawnApp('ingest', {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: requireBrokers().join(','),
      ARTIFACT_TOPIC: artifactTopic,
      RUN_TOPIC: runTopic,
      KAFKA_GROUP_ID: `parity-${suffix}`,
      KAFKA_TOPIC_PARTITIONS: '3',
      INGEST_PORT: String(await freePort()),
    });
    query = spawnApp('query', { DATABASE_URL: db.url, QUERY_PORT: String(await freePort()) });
    await Promise.all([waitForStatus(ingest, '/ready'), waitForStatus(query, '/api/health')]);
    for (const [i, event] of history.events.entries()) {
      await kafka.send(event.topic === 'artifacts' ? artifactTopic : runTopic, [encodeEvent(event, i % 2 === 0 ? 'structured' : 'binary')]);
    }
    await waitForStatus(ingest, '/ready', 200, 120_000);
    // Caught up when both hold as many versions and keys.
    const counts = async (base: string) =>
      (await Promise.all(['/api/artifacts/count', '/api/artifacts/latest/count'].map((path) => send(base, { method: 'POST', path, headers: {}, route: '' })))).map((a) => a.body).join('/');
    const expected = await counts(prefect.url);
    await waitFor(`our counts to reach Prefect's ${expected}`, async () => ((await counts(query!.url)) === expected ? true : undefined), 120_000, 250);
    log(`ingested: counts ${expected} on both sides`);

    // Our collection ids are UUID v5 of the key (docs/events.md); Prefect's are random: map them.
    const latest = async (base: string) =>
      JSON.parse((await send(base, { method: 'POST', path: '/api/artifacts/latest/filter', headers: { 'content-type': 'application/json' }, body: '{"limit":200}', route: '' })).body) as { id: string; key: string }[];
    const ours = new Map((await latest(query.url)).map((c) => [c.key, c.id]));
    const idMap = new Map<string, string>();
    for (const c of await latest(prefect.url)) if (ours.has(c.key)) idMap.set(c.id, ours.get(c.key)!);
    const collectionIdsDiffer = [...idMap].some(([p, o]) => p !== o);
    const translate = (body: string) => (idMap.size === 0 ? body : body.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => idMap.get(id) ?? id));

    const run = async (seed: number, count: number, concurrency = 4): Promise<ParityResult> => {
      const generator = new RequestGenerator(openapi, history, new Random(seed));
      const requests = [...DEVIATIONS.map((d) => d.probe), ...Array.from({ length: count }, () => generator.next())];
      const outcomes = await pool(requests, concurrency, async (request): Promise<Outcome> => {
        const [p, o] = await Promise.all([send(prefect!.url, request), send(query!.url, request)]);
        return { request, prefect: { status: p.status, body: translate(p.body) }, ours: o };
      });
      const classes = new Map<string, ClassRow>();
      const deviations = new Map<string, DeviationRow>(DEVIATIONS.map((d) => [d.id, { id: d.id, what: d.what, count: 0, broken: [] }]));
      let agreed = 0;
      for (const outcome of outcomes) {
        const name = classify(outcome.request, outcome.prefect, outcome.ours);
        if (name === undefined) {
          agreed++;
          continue;
        }
        const deviation = deviationOf(outcome.request, outcome.prefect);
        if (deviation) {
          const row = deviations.get(deviation.id)!;
          row.count++;
          if (!row.example || size(outcome) < size(row.example)) row.example = outcome;
          const problems = deviation.checkOurs(outcome.ours);
          if (problems.length > 0) row.broken.push({ outcome, problems });
          continue;
        }
        const row = classes.get(name);
        if (!row) classes.set(name, { name, count: 1, example: outcome });
        else {
          row.count++;
          if (size(outcome) < size(row.example)) row.example = outcome;
        }
      }
      return {
        seed,
        requests: requests.length,
        agreed,
        classes: [...classes.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
        deviations: [...deviations.values()],
        history: { versions: history.versions, liveVersions: history.artifactIds.length, keys: history.keys.length, events: history.events.length },
        collectionIdsDiffer,
      };
    };
    return { prefect, history, run, close };
  } catch (error) {
    await close();
    throw error;
  }
}
