import { request as httpRequest, Agent } from 'node:http';
import { Client } from 'pg';
import { collectionId } from '@app/projections';
import { AppProcess, waitFor } from '../../../infra/local/apps';
import { PrefectServer, startPrefectServer } from '../../../infra/local/prefect';
import { encodeEvent } from '../../support/conformance';
import { IngestFixture } from '../../support/ingest-fixture';
import { DEVIATIONS, deviationOf } from '../deviations';
import { Answer, classify } from './compare';
import { ParityRequest, RequestGenerator } from './generator';
import { buildHistory, History } from './history';
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
  /** A request can fall into several classes (e.g. row order and number text). */
  classes: ClassRow[];
  deviations: DeviationRow[];
  /** Coverage: answers by route and status pair ("Prefect/ours"). */
  statuses: Record<string, number>;
  history: { versions: number; liveVersions: number; keys: number; events: number };
  collectionIdsDiffer: boolean;
}

export interface Parity {
  prefect: PrefectServer;
  queryUrl: string;
  history: History;
  run(seed: number, requests: number, concurrency?: number): Promise<ParityResult>;
  close(): Promise<void>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/**
 * Sends the request as written (raw path: no URL normalisation of `%`, `..` and the like).
 * A connection the server closed is retried once on a fresh one; a second failure is an
 * answer of its own (status 0), so a server that drops a request shows up as a class.
 */
export async function send(base: string, r: ParityRequest): Promise<Answer> {
  try {
    return await sendOnce(base, r, agent);
  } catch {
    try {
      return await sendOnce(base, r, false);
    } catch (error) {
      return { status: 0, body: `connection error: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
  }
}

function sendOnce(base: string, r: ParityRequest, via: Agent | false): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, agent: via, headers: { ...r.headers, ...(r.body === undefined ? {} : { 'content-length': Buffer.byteLength(r.body) }) }, timeout: 120_000 },
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

async function adoptOurCollectionIds(databaseUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = (await client.query<{ id: string; key: string }>('SELECT id::text AS id, key FROM artifact_collection')).rows;
    for (const row of rows) await client.query('UPDATE artifact_collection SET id = $1 WHERE key = $2', [collectionId(row.key), row.key]);
    return rows.some((row) => row.id !== collectionId(row.key));
  } finally {
    await client.end();
  }
}

const size = (o: Outcome) => o.request.path.length + (o.request.body?.length ?? 0);

export async function startParity(options: { historySeed: number; operations: number; log?: (line: string) => void }): Promise<Parity> {
  const log = options.log ?? (() => undefined);
  let prefect: PrefectServer | undefined;
  let world: IngestFixture | undefined;
  let query: AppProcess | undefined;
  const close = async () => {
    await Promise.allSettled([world?.close(), prefect?.stop()]);
    agent.destroy();
  };
  try {
    log('starting the Prefect server (a fresh database; its migrations take a while)');
    prefect = await startPrefectServer(process.env.DATABASE_URL ?? '');
    log(`Prefect at ${prefect.url}; creating the history`);
    const history = await buildHistory(prefect.url, { seed: options.historySeed, operations: options.operations });
    const openapi = JSON.parse((await send(prefect.url, { method: 'GET', path: '/api/openapi.json', headers: {}, route: '' })).body);
    log(`history: ${history.versions} versions created, ${history.artifactIds.length} live over ${history.keys.length} keys, ${history.events.length} events`);

    world = await IngestFixture.create('parity');
    let ingest: AppProcess;
    [ingest, query] = await Promise.all([world.start(), world.startQuery()]);
    for (const [i, event] of history.events.entries()) {
      await world.produce(event.topic, [encodeEvent(event, i % 2 === 0 ? 'structured' : 'binary')]);
    }
    await world.caughtUp(ingest, 120_000);
    // Caught up when both count alike: versions, keys, and versions reached through each kind of run entity.
    const probes = [
      ['/api/artifacts/count', '{}'],
      ['/api/artifacts/latest/count', '{}'],
      ['/api/artifacts/count', '{"flow_runs":{}}'],
      ['/api/artifacts/count', '{"task_runs":{}}'],
      ['/api/artifacts/count', '{"flows":{"deployment":{"is_null_":false}}}'],
      ['/api/artifacts/count', '{"deployments":{}}'],
    ];
    const counts = async (base: string) =>
      (await Promise.all(probes.map(([path, body]) => send(base, { method: 'POST', path: path!, headers: { 'content-type': 'application/json' }, body, route: '' })))).map((a) => a.body).join('/');
    const expected = await counts(prefect.url);
    const [versionsAndKeys] = /^[^/]+\/[^/]+/.exec(expected)!;
    await waitFor(`our counts to reach Prefect's ${versionsAndKeys}`, async () => ((await counts(query!.url)).startsWith(`${versionsAndKeys}/`) ? true : undefined), 120_000, 250);
    // The run-filtered counts may differ for good (a finding, reported by the comparison), so they only get a while.
    const settled = await waitFor('run-filtered counts', async () => ((await counts(query!.url)) === expected ? true : undefined), 30_000, 500).catch(() => false);
    log(`ingested: counts ${expected} on Prefect${settled ? ' and ours' : `, ours ${await counts(query.url)} (comparing anyway)`}`);

    // Our collection ids are UUID v5 of the key (docs/events.md, derived so that a rebuild
    // from the topics keeps them); Prefect's are random v4, and ID_DESC (the default sort)
    // orders latest rows by them. So that both sides hold the same ids, Prefect's rows are
    // given ours, in its database: nothing else in Prefect reads or refers to them.
    const collectionIdsDiffer = await adoptOurCollectionIds(prefect.databaseUrl);
    log(`Prefect's collection ids ${collectionIdsDiffer ? 'differed from ours; rewritten to ours' : 'already equal ours'}`);

    const run = async (seed: number, count: number, concurrency = 4): Promise<ParityResult> => {
      const generator = new RequestGenerator(openapi, history, new Random(seed));
      const requests = [...DEVIATIONS.map((d) => d.probe), ...Array.from({ length: count }, () => generator.next())];
      const outcomes = await pool(requests, concurrency, async (request): Promise<Outcome> => {
        const [p, o] = await Promise.all([send(prefect!.url, request), send(query!.url, request)]);
        return { request, prefect: p, ours: o };
      });
      const classes = new Map<string, ClassRow>();
      const deviations = new Map<string, DeviationRow>(DEVIATIONS.map((d) => [d.id, { id: d.id, what: d.what, count: 0, broken: [] }]));
      let agreed = 0;
      const statuses: Record<string, number> = {};
      for (const outcome of outcomes) {
        const pair = `${outcome.request.route} ${outcome.prefect.status}/${outcome.ours.status}`;
        statuses[pair] = (statuses[pair] ?? 0) + 1;
        const names = classify(outcome.request, outcome.prefect, outcome.ours);
        if (names.length === 0) {
          agreed++;
          continue;
        }
        const deviation = deviationOf(outcome.request, outcome.prefect, outcome.ours);
        if (deviation) {
          const row = deviations.get(deviation.id)!;
          row.count++;
          if (!row.example || size(outcome) < size(row.example)) row.example = outcome;
          const problems = deviation.checkOurs(outcome.ours);
          if (problems.length > 0) row.broken.push({ outcome, problems });
          continue;
        }
        for (const name of names) {
          const row = classes.get(name);
          if (!row) classes.set(name, { name, count: 1, example: outcome });
          else {
            row.count++;
            if (size(outcome) < size(row.example)) row.example = outcome;
          }
        }
      }
      return {
        seed,
        requests: requests.length,
        agreed,
        classes: [...classes.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
        deviations: [...deviations.values()],
        statuses: Object.fromEntries(Object.entries(statuses).sort()),
        history: { versions: history.versions, liveVersions: history.artifactIds.length, keys: history.keys.length, events: history.events.length },
        collectionIdsDiffer,
      };
    };
    return { prefect, queryUrl: query.url, history, run, close };
  } catch (error) {
    await close();
    throw error;
  }
}
