import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { encodeConsistencyToken, encodeEvent } from '@app/contracts';
import { pruneChanges } from '@app/persistence';
import fc from 'fast-check';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { liveState, SseClient } from '../support/sse';
import { IngestFixture } from '../support/ingest-fixture';

// Live subscriptions (issue #15, point 1) through real Kafka, PostgreSQL and the
// query app's HTTP API: a snapshot, then upserts and removes in commit order;
// resuming with Last-Event-ID across a restart of the query app; a resume position
// no longer retained gives a snapshot flagged "expired"; the bearer token and
// latest/filter's 422s apply; a stream stays open across `npm run rebuild`; and, as a
// property, the state a client builds from the stream equals a fresh latest/filter answer.

jest.setTimeout(300_000);

const TOKEN = 'subscribe-secret';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const T0 = Date.parse('2026-11-03T08:00:00Z');
let minute = 0;
const next = () => new Date(T0 + ++minute * 60_000).toISOString();

type Row = Record<string, unknown> & { key: string };

describe('subscriptions: /api/artifacts/latest/subscribe', () => {
  let world: IngestFixture;
  let query: AppProcess;
  const clients: SseClient[] = [];

  const startQuery = async () => {
    const app = spawnApp('query', world.env({ QUERY_PORT: String(await freePort()), API_AUTH_TOKEN: TOKEN, QUERY_SUBSCRIBE_HEARTBEAT_SECONDS: '1' }));
    world.apps.push(app);
    await waitForStatus(app, '/api/health', 200);
    return app;
  };
  const send = async (events: [string, Record<string, unknown>][]) => {
    await world.kafka.send(
      world.topics.artifacts,
      events.map(([type, data]) => encodeEvent(type, data)),
    );
  };
  const created = (key: string, type: string, extra: Record<string, unknown> = {}) => {
    const id = randomUUID();
    return { id, event: ['prefect.artifact.created', { id, key, type, data: `# ${key}`, created: next(), ...extra }] as [string, Record<string, unknown>] };
  };
  const updated = (id: string, key: string, description: string): [string, Record<string, unknown>] => ['prefect.artifact.updated', { id, key, description, updated: next() }];
  const deleted = (id: string, key: string): [string, Record<string, unknown>] => ['prefect.artifact.deleted', { id, key, updated: next() }];
  /** A consistency token naming everything produced so far: a query carrying it sees all of it applied. */
  const everything = async () => {
    const topics = new Map<string, Map<number, bigint>>();
    for (const topic of [world.topics.artifacts, world.topics.runs]) {
      const partitions = new Map<number, bigint>();
      for (const o of await world.kafka.admin.fetchTopicOffsets(topic)) if (BigInt(o.high) > 0n) partitions.set(o.partition, BigInt(o.high) - 1n);
      if (partitions.size > 0) topics.set(topic, partitions);
    }
    return encodeConsistencyToken(topics);
  };
  /** Every row latest/filter answers for `body`, page after page, once the read model has applied all that was produced. */
  const fresh = async (body: Record<string, unknown>): Promise<Map<string, Row>> => {
    const token = await everything();
    const rows = new Map<string, Row>();
    for (let offset = 0; ; offset += 200) {
      const response = await fetch(`${query.url}/api/artifacts/latest/filter`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json', 'x-consistency-token': token },
        body: JSON.stringify({ ...body, limit: 200, offset }),
      });
      expect(response.status).toBe(200);
      const page = (await response.json()) as Row[];
      for (const row of page) rows.set(row.key, row);
      if (page.length < 200) return rows;
    }
  };
  const subscribe = async (body: Record<string, unknown>, headers: Record<string, string> = {}, app = query) => {
    const client = await SseClient.open(`${app.url}/api/artifacts/latest/subscribe`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    clients.push(client);
    expect(client.response.status).toBe(200);
    expect(client.response.headers.get('content-type')).toBe('text/event-stream');
    expect(client.response.headers.get('cache-control')).toBe('no-store');
    return client;
  };
  const settlesTo = (client: SseClient, expected: Map<string, Row>, events = () => client.events) =>
    client.until('the live state to equal latest/filter', () => sameRows(liveState(events()), expected));

  beforeAll(async () => {
    world = await IngestFixture.create('sse', { partitions: 3 });
    await world.start();
    query = await startQuery();
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await world?.close();
  });

  it('answers 401 without the bearer token, and latest/filter\'s 422s for a bad body, on POST and GET', async () => {
    for (const init of [{ method: 'POST', body: '{}' }, { method: 'GET' }]) {
      const response = await fetch(`${query.url}/api/artifacts/latest/subscribe`, init);
      expect(response.status).toBe(401);
    }
    const json = { ...AUTH, 'content-type': 'application/json' };
    for (const body of ['{"limit": -1}', '{"artifacts": {"bogus": 1}, "sort": "NOPE"}', '{"a": 1,}']) {
      const filter = await fetch(`${query.url}/api/artifacts/latest/filter`, { method: 'POST', headers: json, body });
      const post = await fetch(`${query.url}/api/artifacts/latest/subscribe`, { method: 'POST', headers: json, body });
      const get = await fetch(`${query.url}/api/artifacts/latest/subscribe?filter=${encodeURIComponent(body)}`, { headers: AUTH });
      expect(filter.status).toBe(422);
      const expected = await filter.text();
      for (const response of [post, get]) {
        expect(response.status).toBe(422);
        expect(await response.text()).toBe(expected);
      }
    }
    const badId = await fetch(`${query.url}/api/artifacts/latest/subscribe`, { method: 'POST', headers: { ...json, 'last-event-id': 'nope' }, body: '{}' });
    expect(badId.status).toBe(422);
  });

  it('sends a snapshot, then upserts and removes in order, heartbeats while idle, and resumes with Last-Event-ID across a restart', async () => {
    const a = created('sse-a', 'markdown');
    const b = created('sse-b', 'markdown');
    const c = created('sse-c', 'table');
    await send([a.event, b.event, c.event]);
    const body = { artifacts: { type: { any_: ['markdown'] }, key: { like_: 'sse-' } }, sort: 'KEY_ASC' };
    const expectedFirst = await fresh(body);
    expect([...expectedFirst.keys()]).toEqual(['sse-a', 'sse-b']);

    const client = await subscribe(body);
    await client.until('the snapshot', (s) => s.events.length >= 1);
    const snapshot = client.events[0]!;
    expect(snapshot.event).toBe('snapshot');
    const parsed = JSON.parse(snapshot.data) as { reason: string; artifacts: Row[] };
    expect(parsed.reason).toBe('new');
    // The rows latest/filter answers, in its serialisation and in the sort asked for.
    expect(parsed.artifacts).toEqual([...expectedFirst.values()]);
    expect(snapshot.id).toMatch(/^\d+-\d+$/);

    const d = created('sse-d', 'markdown');
    const e = created('sse-e', 'table');
    await send([d.event, updated(a.id, 'sse-a', 'changed'), deleted(b.id, 'sse-b'), e.event]);
    await settlesTo(client, await fresh(body));
    const after = client.events.slice(1);
    // One batch may commit several keys at once; their order inside it is not the events' order.
    expect(after.map((x) => `${x.event} ${(JSON.parse(x.data) as { key: string }).key}`).sort()).toEqual(['remove sse-b', 'upsert sse-a', 'upsert sse-d']);
    expect((JSON.parse(after.find((x) => x.data.includes('"sse-a"'))!.data) as Row).description).toBe('changed');
    const ids = client.events.map((x) => x.id);
    expect([...ids].sort(comparePositionText)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    await client.until('a heartbeat', (s) => s.comments.includes('heartbeat'));

    // The query app restarts; what changes meanwhile is sent on resuming, and nothing else.
    const resumeFrom = client.lastEventId;
    const held = liveState(client.events);
    client.close();
    await query.stop();
    const f = created('sse-f', 'markdown');
    await send([f.event, deleted(d.id, 'sse-d')]);
    query = await startQuery();
    const resumed = await subscribe(body, { 'last-event-id': resumeFrom });
    const expected = await fresh(body);
    await resumed.until('the changes since the resume position', () => sameRows(applyTo(held, resumed.events), expected));
    expect(resumed.events.some((x) => x.event === 'snapshot')).toBe(false);
    expect(resumed.events.map((x) => `${x.event} ${(JSON.parse(x.data) as { key: string }).key}`).sort()).toEqual(['remove sse-d', 'upsert sse-f']);

    // A position from before the pruned changes (or one this database never gave) gives a fresh snapshot, flagged.
    await pruneChanges(sqlOfWorld(world), 0);
    for (const position of [resumeFrom, '999999999999-0']) {
      const late = await subscribe(body, { 'last-event-id': position });
      await late.until('the snapshot', (s) => s.events.length >= 1);
      expect(late.events[0]!.event).toBe('snapshot');
      expect(JSON.parse(late.events[0]!.data)).toEqual({ reason: 'expired', artifacts: [...expected.values()] });
      late.close();
    }
  });

  it("follows the flow run: a run's state change adds or removes the keys whose run filter it decides", async () => {
    const run = randomUUID();
    const runEvent = (state: string) => encodeEvent('prefect.flow-run.upserted', { id: run, name: 'live-run', state_type: state, state_name: state, updated: next() });
    const h = created('sse-run-h', 'markdown', { flow_run_id: run });
    await world.kafka.send(world.topics.runs, [runEvent('RUNNING')]);
    await send([h.event]);
    const body = { artifacts: { key: { like_: 'sse-run-' } }, flow_runs: { state: { type: { any_: ['COMPLETED'] } } } };
    const client = await subscribe(body);
    await settlesTo(client, await fresh(body));
    expect(JSON.parse(client.events[0]!.data)).toEqual({ reason: 'new', artifacts: [] });

    await world.kafka.send(world.topics.runs, [runEvent('COMPLETED')]);
    const completed = await fresh(body);
    expect([...completed.keys()]).toEqual(['sse-run-h']);
    await settlesTo(client, completed);
    expect(client.events.at(-1)!.event).toBe('upsert');

    await world.kafka.send(world.topics.runs, [runEvent('FAILED')]);
    await settlesTo(client, await fresh(body));
    expect(client.events.at(-1)).toMatchObject({ event: 'remove', data: '{"key":"sse-run-h"}' });
    client.close();
  });

  it('GET with ?filter= serves EventSource clients the same stream', async () => {
    const body = { artifacts: { key: { like_: 'sse-' } } };
    const client = await SseClient.open(`${query.url}/api/artifacts/latest/subscribe?filter=${encodeURIComponent(JSON.stringify(body))}`, { headers: AUTH });
    clients.push(client);
    expect(client.response.status).toBe(200);
    await client.until('the snapshot', (s) => s.events.length >= 1);
    const g = created('sse-g', 'link');
    await send([g.event]);
    await settlesTo(client, await fresh(body));
    expect(client.events.at(-1)).toMatchObject({ event: 'upsert' });
    client.close();
  });

  it('a stream open across npm run rebuild (the tables swapped in) ends with the rows of a fresh latest/filter', async () => {
    const body = { artifacts: { key: { like_: 'sse-rb-' } }, sort: 'KEY_ASC' };
    const a = created('sse-rb-a', 'markdown');
    const b = created('sse-rb-b', 'table');
    await send([a.event, b.event]);
    const client = await subscribe(body);
    await settlesTo(client, await fresh(body));
    // A row no event made: the stream sends it as any change, and the replay will not have it.
    const planted = randomUUID();
    await world.db.dataSource.query(`INSERT INTO artifact_collection (id, created, updated, key, latest_id, type) VALUES ($1, now(), now(), 'sse-rb-planted', $1, 'link')`, [planted]);
    await settlesTo(client, await fresh(body));
    expect([...liveState(client.events).keys()].sort()).toEqual(['sse-rb-a', 'sse-rb-b', 'sse-rb-planted']);

    // Events go on while the rebuild replays and swaps; the stream stays open throughout.
    const rebuilt = runRebuild(world.env());
    const c = created('sse-rb-c', 'markdown');
    await send([c.event, updated(a.id, 'sse-rb-a', 'during the rebuild'), deleted(b.id, 'sse-rb-b')]);
    const result = await rebuilt;
    expect([result.code, result.stderr.split('\n').filter((l) => l.startsWith('rebuild: swapped'))]).toEqual([0, [expect.stringMatching(/^rebuild: swapped/)]]);
    const d = created('sse-rb-d', 'link');
    await send([d.event]);

    const expected = await fresh(body);
    expect([...expected.keys()]).toEqual(['sse-rb-a', 'sse-rb-c', 'sse-rb-d']);
    await settlesTo(client, expected);
    expect(client.ended).toBe(false);
    // The swap reached the client as one snapshot flagged "reset" (the change log's NULL key), not key by key.
    const resets = client.events.filter((e) => e.event === 'snapshot' && (JSON.parse(e.data) as { reason: string }).reason === 'reset');
    expect(resets).toHaveLength(1);
    expect((JSON.parse(resets[0]!.data) as { artifacts: Row[] }).artifacts.map((r) => r.key)).not.toContain('sse-rb-planted');
    client.close();
  });

  it('property: snapshot + events build the same rows as a fresh latest/filter, for random histories and filters', async () => {
    const KEYS = ['p0', 'p1', 'p2', 'p3'];
    const TYPES = ['markdown', 'table', 'link'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), key: fc.constantFrom(...KEYS), type: fc.constantFrom(...TYPES) }),
      fc.record({ kind: fc.constant('update' as const), key: fc.constantFrom(...KEYS), text: fc.string({ maxLength: 5 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
    );
    const filter = fc.record(
      {
        key: fc.oneof(fc.record({ any_: fc.subarray(KEYS) }), fc.record({ like_: fc.constantFrom('p1', 'p', '2') })),
        type: fc.oneof(fc.record({ any_: fc.subarray(TYPES, { minLength: 1 }) }), fc.record({ not_any_: fc.subarray(TYPES) })),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      // Several subscriptions at once: the query app reads the changed rows once for all their filters.
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), fc.array(filter, { minLength: 1, maxLength: 3 }), fc.nat(12), async (ops, filters, cut) => {
        const run = `r${randomUUID().slice(0, 8)}`;
        const scoped = (key: string) => `${run}-${key}`;
        const live = new Map<string, string[]>();
        const events = ops.map((o): [string, Record<string, unknown>] | undefined => {
          const key = scoped(o.key);
          const versions = live.get(key) ?? [];
          if (o.kind === 'create') {
            const c = created(key, o.type);
            live.set(key, [...versions, c.id]);
            return c.event;
          }
          const latest = versions.at(-1);
          if (latest === undefined) return undefined;
          if (o.kind === 'update') return updated(latest, key, o.text);
          live.set(key, versions.slice(0, -1));
          return deleted(latest, key);
        }).filter((e): e is [string, Record<string, unknown>] => e !== undefined);
        // Each run its own keys: every filter also requires the run's prefix.
        const bodies = filters.map((artifacts) => {
          const body = { artifacts: { operator: 'and_', ...artifacts }, flow_runs: null, sort: 'CREATED_DESC' };
          const withPrefix = { ...body, artifacts: { ...body.artifacts, key: { ...(artifacts.key ?? {}) } } };
          if (!('any_' in withPrefix.artifacts.key)) withPrefix.artifacts.key = { ...withPrefix.artifacts.key, any_: KEYS.map(scoped) };
          else withPrefix.artifacts.key = { any_: (withPrefix.artifacts.key as { any_: string[] }).any_.map(scoped) };
          return withPrefix;
        });
        const split = Math.min(cut, events.length);
        await send(events.slice(0, split));
        await fresh(bodies[0]!);
        const clients = await Promise.all(bodies.map((b) => subscribe(b)));
        await send(events.slice(split));
        for (const [i, client] of clients.entries()) await settlesTo(client, await fresh(bodies[i]!));
        for (const client of clients) client.close();
      }),
      { numRuns: 20 },
    );
  });
});

/** `npm run rebuild` (apps/ingest/src/rebuild) against this spec's topics, group and database. */
function runRebuild(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '-s', 'rebuild'], { cwd: join(__dirname, '..', '..'), env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function sameRows(a: Map<string, Record<string, unknown>>, b: Map<string, Record<string, unknown>>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, row] of b) if (JSON.stringify(a.get(key)) !== JSON.stringify(row)) return false;
  return true;
}

function applyTo(held: Map<string, Record<string, unknown>>, events: Parameters<typeof liveState>[0]) {
  return liveState([{ event: 'snapshot', id: '', data: JSON.stringify({ artifacts: [...held.values()] }) }, ...events]);
}

function comparePositionText(a: string, b: string): number {
  const [ax, ai] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bx, bi] = b.split('-').map(BigInt) as [bigint, bigint];
  return ax !== bx ? (ax < bx ? -1 : 1) : ai === bi ? 0 : ai < bi ? -1 : 1;
}

function sqlOfWorld(world: IngestFixture) {
  return {
    query: async <R>(statement: { text: string; values: unknown[] }) => {
      const rows = (await world.db.dataSource.query(statement.text, statement.values)) as R[];
      return { rows, rowCount: rows.length };
    },
  };
}
