import { Client } from 'pg';
import { ArtifactQueryFilters, ArtifactTable, artifactWhere, CountArtifactsBody, CountLatestArtifactsBody, countStatement, SqlParams } from '@app/filters';
import type { SqlStatement } from '@app/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';

// The counts the tally answers (migration 1700000000090) must equal count(*) over the
// rows whatever wrote them: inserts, upserts, a run's copies rewritten, deletes, a
// rolled-back transaction, two writers at once, a TRUNCATE, the rebuild's recount; and
// the versions by their run's state (1700000000100) whatever wrote the versions or the runs.

let db: TestDatabase;
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase('tally');
  for (let i = 0; i < 2; i++) {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    clients.push(client);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await db?.drop();
});

const uuid = (kind: number, n: number) => `00000000-0000-4000-8${kind}00-${n.toString(16).padStart(12, '0')}`;
const TYPES = ['markdown', 'table', 'link', null];
const STATES = ['COMPLETED', 'FAILED', 'RUNNING', null];
const FLOWS = [1, 2, 3].map((n) => uuid(1, n));
const DEPLOYMENTS = [1, 2, 3, 4].map((n) => uuid(2, n));
const RUNS = [1, 2, 3, 4, 5, 6].map((n) => uuid(3, n));

/** A small deterministic generator, one per writer: the two writers' awaits interleave differently from run to run, so one shared generator would not replay. */
function random(seed: number) {
  let s = seed;
  const next = () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  return { int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T };
}
type Rng = ReturnType<typeof random>;
const RNGS = [random(18), random(19)];

const collectionRow = (rnd: Rng, key: number) => {
  const run = rnd.int(3) > 0;
  return [uuid(5, key), `key-${key}`, rnd.pick(TYPES), run ? rnd.pick(FLOWS) : null, run ? rnd.pick(DEPLOYMENTS) : null, run ? rnd.pick(STATES) : null];
};

/** Upserts collection rows of these keys, as the ingest's collection write does (new keys insert, known ones update). */
async function upsert(client: Client, rnd: Rng, keys: number[]): Promise<void> {
  const rows = keys.map((key) => collectionRow(rnd, key));
  await client.query(
    `INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, run_flow_id, run_deployment_id, run_state_type)
     SELECT r.id, now(), now(), r.key, r.id, r.type, r.flow, r.deployment, r.state
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::text[]) AS r(id, key, type, flow, deployment, state)
     ON CONFLICT (key) DO UPDATE SET type = excluded.type, run_flow_id = excluded.run_flow_id, run_deployment_id = excluded.run_deployment_id, run_state_type = excluded.run_state_type`,
    [0, 1, 2, 3, 4, 5].map((c) => rows.map((r) => r[c])),
  );
}

async function insertVersions(client: Client, rnd: Rng, writer: number, from: number, count: number): Promise<void> {
  const types = Array.from({ length: count }, () => rnd.pick(TYPES));
  const runs = Array.from({ length: count }, () => rnd.pick([...RUNS, null]));
  await client.query(
    `INSERT INTO artifact (id, created, updated, key, type, flow_run_id, src_partition, src_offset)
     SELECT gen_random_uuid(), now(), now(), 'key-' || (($1::int + o - 1) % 40), t, r, $4, $1::int + o FROM unnest($2::text[], $3::uuid[]) WITH ORDINALITY AS v(t, r, o)`,
    [from, types, runs, writer],
  );
}

/** Upserts some flow runs with random states and deletes one, as the run writer does (new runs insert, known ones update). */
async function writeRuns(client: Client, rnd: Rng): Promise<void> {
  const ids = [...new Set(Array.from({ length: 1 + rnd.int(4) }, () => rnd.pick(RUNS)))].sort();
  await client.query(
    `INSERT INTO flow_run (id, updated, name, state_type) SELECT r.id, now(), 'run', r.state FROM unnest($1::uuid[], $2::text[]) AS r(id, state)
     ON CONFLICT (id) DO UPDATE SET state_type = excluded.state_type, updated = excluded.updated`,
    [ids, ids.map(() => rnd.pick(STATES))],
  );
  if (rnd.int(3) === 0) await client.query('DELETE FROM flow_run WHERE id = $1', [rnd.pick(RUNS)]);
}

/** Keys of one writer: as Kafka partitions the ingest's keys, two writers never write one key. */
const keysOf = (rnd: Rng, writer: number, count: number) => [...new Set(Array.from({ length: count }, () => rnd.int(30) * 2 + writer))].sort((x, y) => x - y);

/** One random write of writer 0 or 1: most commit, some roll back. */
async function write(client: Client, writer: number, step: number): Promise<void> {
  const rnd = RNGS[writer]!;
  await client.query('BEGIN');
  const kind = rnd.int(6);
  // As the ingest does (libs/projections/src/batch.ts), a run's write excludes the collection writers.
  await client.query(kind === 2 ? 'SELECT pg_advisory_xact_lock(18)' : 'SELECT pg_advisory_xact_lock_shared(18)');
  if (kind <= 1) await upsert(client, rnd, keysOf(rnd, writer, 1 + rnd.int(30)));
  else if (kind === 2) {
    await client.query('UPDATE artifact_collection SET run_state_type = $1 WHERE run_flow_id = $2', [rnd.pick(STATES), rnd.pick(FLOWS)]);
    await writeRuns(client, rnd);
  }
  else if (kind === 3) await client.query('DELETE FROM artifact_collection WHERE key = ANY($1::text[])', [keysOf(rnd, writer, 5).map((k) => `key-${k}`)]);
  else if (kind === 4) await insertVersions(client, rnd, writer, step * 100, 1 + rnd.int(40));
  else await client.query('DELETE FROM artifact WHERE src_partition = $1 AND src_offset % 7 = $2', [writer, rnd.int(7)]);
  await client.query(rnd.int(5) === 0 ? 'ROLLBACK' : 'COMMIT');
}

/** The count as the WHERE says it (count(*)), and as the app counts it. */
const filtersOf = (table: ArtifactTable, body: object) => (table === 'artifact' ? CountArtifactsBody : CountLatestArtifactsBody).parse(body) as ArtifactQueryFilters<ArtifactTable>;

async function bothCounts(table: ArtifactTable, body: object): Promise<[number, number, SqlStatement]> {
  const p = new SqlParams();
  const filters = filtersOf(table, body);
  const exact = p.statement(`SELECT count(*) FROM ${table} t WHERE ${artifactWhere(table, filters, p, 't')}`);
  const counted = countStatement(table, filters);
  const [a, b] = await Promise.all([clients[0]!.query(exact.text, exact.values), clients[0]!.query(counted.text, counted.values)]);
  return [Number(a.rows[0].count), Number(b.rows[0][Object.keys(b.rows[0])[0]!]), counted];
}

const CASES: [ArtifactTable, object][] = [
  ['artifact_collection', { artifacts: { type: { any_: ['markdown'] } } }],
  ['artifact_collection', { artifacts: { key: { exists_: true }, type: { any_: ['table', 'link', 'table'] } } }],
  ['artifact_collection', { deployments: { id: { any_: [DEPLOYMENTS[0]!] } } }],
  // Deployment 4 and flow 3 have no row of their own: a filter naming them matches nothing.
  ['artifact_collection', { deployments: { id: { any_: [DEPLOYMENTS[1]!, DEPLOYMENTS[3]!] } } }],
  ['artifact_collection', { flows: { id: { any_: [FLOWS[0]!.toUpperCase()] } } }],
  ['artifact_collection', { flows: { id: { any_: [FLOWS[1]!, FLOWS[2]!] } } }],
  ['artifact_collection', { flow_runs: { deployment_id: { any_: [DEPLOYMENTS[3]!, DEPLOYMENTS[2]!] } } }],
  ['artifact_collection', { flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }],
  ['artifact_collection', { flow_runs: { state: { type: { any_: ['FAILED', 'RUNNING'] } } } }],
  ['artifact', { artifacts: { type: { any_: ['markdown'] } } }],
  ['artifact', { artifacts: { type: { any_: ['table', 'link'] } } }],
  ['artifact', { flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }],
  ['artifact', { flow_runs: { state: { type: { any_: ['FAILED', 'RUNNING', 'FAILED'] } } } }],
];

async function expectTallyExact(): Promise<void> {
  for (const [table, body] of CASES) {
    const [exact, counted, statement] = await bothCounts(table, body);
    expect({ table, body, counted }).toEqual({ table, body, counted: exact });
    expect(statement.text).toContain('read_model_tally');
  }
}

it('reads the counts of one tallied column from the tally, and no other count', () => {
  for (const [table, body] of CASES) expect(countStatement(table, filtersOf(table, body)).text).toContain('read_model_tally');
  for (const [table, body] of [
    ['artifact_collection', { artifacts: { type: { not_any_: ['markdown'] } } }],
    ['artifact_collection', { artifacts: { operator: 'or_', flow_run_id: { any_: [uuid(3, 1)] }, type: { any_: ['markdown'] } } }],
    ['artifact_collection', { artifacts: { type: { any_: ['markdown'] } }, flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }],
    ['artifact_collection', { deployments: { id: { any_: [DEPLOYMENTS[0]!] } }, flows: { id: { any_: [FLOWS[0]!] } } }],
    ['artifact_collection', { artifacts: { flow_run_id: { any_: [uuid(3, 1)] } } }],
    ['artifact', { artifacts: { key: { exists_: true }, type: { any_: ['markdown'] } } }],
    ['artifact', { flow_runs: { state: { type: { not_any_: ['COMPLETED'] } } } }],
    ['artifact', { flow_runs: { state: { name: { any_: ['Completed'] } } } }],
    ['artifact', { flow_runs: { state: { type: { any_: ['COMPLETED'] } }, tags: { all_: ['a'] } } }],
    ['artifact', { flow_runs: { state: { type: { any_: ['COMPLETED'] } } }, deployments: { id: { any_: [DEPLOYMENTS[0]!] } } }],
    ['artifact', { artifacts: { type: { any_: ['markdown'] } }, flow_runs: { state: { type: { any_: ['COMPLETED'] } } } }],
  ] as [ArtifactTable, object][]) {
    expect({ body, text: countStatement(table, filtersOf(table, body)).text }).toEqual({ body, text: expect.stringContaining('count(*)') });
  }
});

it('equals count(*) through random writes, two writers at once, rollbacks and a TRUNCATE', async () => {
  const [a, b] = clients as [Client, Client];
  await a.query('INSERT INTO deployment (id, updated, name) SELECT unnest($1::uuid[]), now(), $2', [DEPLOYMENTS.slice(0, 3), 'd']);
  await a.query('INSERT INTO flow (id, updated, name) SELECT unnest($1::uuid[]), now(), $2', [FLOWS.slice(0, 2), 'f']);
  // The run states the versions' tally held at each check: the writes must reach it, or its exactness proves nothing.
  const runStates: number[] = [];
  for (let step = 0; step < 60; step++) {
    await Promise.all([write(a, 0, step), write(b, 1, step)]);
    if (step === 30) await a.query('TRUNCATE artifact_collection');
    if (step === 45) await a.query('TRUNCATE flow_run');
    if (step % 10 === 9) {
      await expectTallyExact();
      const states = await a.query("SELECT count(DISTINCT value) AS values FROM read_model_tally WHERE table_name = 'artifact' AND dimension = 'run_state_type' AND n <> 0");
      runStates.push(Number(states.rows[0].values));
    }
  }
  const nonzero = await a.query("SELECT count(DISTINCT value) AS values FROM read_model_tally WHERE table_name = 'artifact_collection' AND n <> 0");
  expect(Number(nonzero.rows[0].values)).toBeGreaterThan(8);
  expect(Math.max(...runStates)).toBeGreaterThanOrEqual(2);
});

it('lets 16 transactions write the same values at once, none waiting for another', async () => {
  const connected = await Promise.all(
    Array.from({ length: 17 }, async () => {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      // A wait on another writer's lock fails the statement instead (no duration is measured).
      await client.query("SET lock_timeout = '5s'");
      const { rows } = await client.query('SELECT pg_backend_pid() % 16 AS own');
      return { client, own: Number(rows[0].own) };
    }),
  );
  // Sixteen of them, two of which share their backend's own slot (of 17, two must).
  const sharing = connected.findIndex((c, i) => connected.some((d, j) => j !== i && d.own === c.own));
  const dropped = connected.findIndex((c, i) => i !== sharing && c.own !== connected[sharing]!.own);
  const writers = connected.filter((_, i) => i !== dropped).map((c) => c.client);
  await connected[dropped]!.client.end();
  try {
    for (const c of writers) await c.query('BEGIN');
    // Each writes twice, in two statements, the same type and state values, keys of its own.
    for (const round of [0, 1]) {
      for (const [i, c] of writers.entries()) {
        await c.query(
          `INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, run_state_type)
           VALUES (gen_random_uuid(), now(), now(), $1, gen_random_uuid(), $2, $3)`,
          [`many-${round}-${i}`, round ? 'table' : 'markdown', round ? 'FAILED' : 'COMPLETED'],
        );
      }
    }
    for (const c of writers) await c.query('COMMIT');
  } finally {
    await Promise.all(writers.map((c) => c.end()));
  }
  await expectTallyExact();
});

it('counts afresh what it was not told (the rebuild swaps tables in without the triggers)', async () => {
  const [a] = clients as [Client];
  await a.query("UPDATE read_model_tally SET n = n + 5 WHERE table_name = 'artifact_collection'");
  await a.query("SELECT read_model_tally_recount('artifact_collection')");
  await a.query("UPDATE read_model_tally SET n = n - 3 WHERE table_name = 'artifact'");
  await a.query("SELECT read_model_tally_recount('artifact')");
  await expectTallyExact();
});
