import fc from 'fast-check';
import type { DecodedEvent } from '@app/contracts';
import { inTransaction as transaction } from '@app/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { loadQueries, planBatch, projectBatch } from './batch';
import { readTables } from './dump';
import { foldEvents, modelTables } from './model';
import { arrayLiteral, SqlExecutor } from './sql';
import { at, created, deleted, entityDeleted, flowRunUpserted, flowUpserted, position, runPosition, updated, uuid } from './testing/fixtures';
import { historyArbitrary } from './testing/histories';

// Runs the load and write statements against a real PostgreSQL, one
// transaction per batch, and compares the tables with the reference fold.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('projections');
});

afterAll(async () => {
  await db?.drop();
});

/** One transaction on the spec's database (persistence's own helper, as the ingest app runs batches). */
const inTransaction = <T>(work: (sql: SqlExecutor) => Promise<T>): Promise<T> => transaction(db.dataSource, work);

async function reset(): Promise<void> {
  await db.dataSource.query('TRUNCATE artifact, artifact_collection, tombstone, flow, deployment, flow_run, task_run');
}

async function applyBatches(batches: DecodedEvent[][]): Promise<void> {
  for (const batch of batches) await inTransaction((sql) => projectBatch(sql, batch));
}

const tables = () => inTransaction((sql) => readTables(sql));

describe('array parameters', () => {
  it('PostgreSQL reads each arrayLiteral element back as sent, in text, json and int8 arrays', async () => {
    const texts = ['', 'NULL', 'null', ' a, b ', '{}', '"', '\\', '\\"', 'line\nbreak\ttab\u0001', 'é🦀', '{"a":"b\\"c","n":1.0}', null];
    const [row] = (await db.dataSource.query('SELECT $1::text[] AS t, $2::json[]::text[] AS j, $3::int8[] AS n', [
      arrayLiteral(texts),
      arrayLiteral(['{"a":"b\\"c","n":1.0}', '[1e400,"\\u00e9"]', null]),
      arrayLiteral([1, -2, '9007199254740993', null]),
    ])) as { t: (string | null)[]; j: (string | null)[]; n: (string | null)[] }[];
    expect(row!.t).toEqual(texts);
    expect(row!.j).toEqual(['{"a":"b\\"c","n":1.0}', '[1e400,"\\u00e9"]', null]);
    expect(row!.n).toEqual(['1', '-2', '9007199254740993', null]);
  });
});

describe('projections against PostgreSQL', () => {
  beforeEach(reset);

  it('walks an artifact key through create, out-of-order create, updates, delete fallback, last delete and re-creation', async () => {
    const [v1, v2, v3, old] = [uuid(1), uuid(2), uuid(3), uuid(4)];
    const events = [
      created({ id: v1, key: 'report', created: at(10), data: '{"n":1.0,"big":123456789012345678901234567890}', metadata_: '{"2":"b","1":"a"}' }, position(0)),
      created({ id: v2, key: 'report', created: at(20, 123456), description: 'second' }, position(1)),
      created({ id: old, key: 'report', created: at(5) }, position(2)),
      updated({ id: v2, key: 'report', updated: at(30), data: '[1.5,-0.0]' }, position(3)),
      updated({ id: v1, key: 'report', updated: at(31), description: 'patched old' }, position(4)),
      created({ id: v3, key: 'report', created: at(40) }, position(5)),
      deleted({ id: v3, key: 'report' }, position(6), at(50)),
      deleted({ id: v2, key: 'report' }, position(7), at(51)),
      deleted({ id: v1, key: 'report' }, position(8), at(52)),
    ];
    for (let cut = 1; cut <= events.length; cut++) {
      await reset();
      await applyBatches([events.slice(0, cut), events.slice(cut)]);
      expect(await tables()).toEqual(modelTables(foldEvents(events)));
    }
    const final = await tables();
    expect(final.artifact_collection).toEqual([
      expect.objectContaining({ key: 'report', latest_id: old, created: at(5), updated: at(5) }),
    ]);

    await applyBatches([[deleted({ id: old, key: 'report' }, position(9), at(53))], [created({ id: uuid(5), key: 'report', created: at(60) }, position(10))]]);
    expect((await tables()).artifact_collection).toEqual([expect.objectContaining({ key: 'report', latest_id: uuid(5), created: at(60) })]);
  });

  it('stores data and metadata text exactly as canonicalised (number fidelity survives the json column)', async () => {
    const data = '{"z":1,"a":1.0,"big":123456789012345678901234567890,"f":1e+16,"s":"caf\u00e9 \\"q\\" \\u0000"}';
    await applyBatches([[created({ id: uuid(1), key: 'k', created: at(1), data, metadata_: '{"b":"x","a":"y"}' }, position(0))]]);
    const { artifact, artifact_collection } = await tables();
    expect(artifact[0]).toMatchObject({ data, metadata_: '{"b":"x","a":"y"}' });
    expect(artifact_collection[0]).toMatchObject({ data, metadata_: '{"b":"x","a":"y"}' });
  });

  it('a batch delivered twice (two transactions) ends as the reference fold of the doubled log', async () => {
    // Not always as after the first delivery: an update that came before its create is
    // ignored the first time and applies the second time, in Prefect's order of events too.
    await fc.assert(
      fc.asyncProperty(historyArbitrary(25), async ({ events }) => {
        await reset();
        await applyBatches([events, events]);
        expect(await tables()).toEqual(modelTables(foldEvents([...events, ...events])));
      }),
      { numRuns: 30 },
    );
  });

  it('a well-ordered batch delivered twice leaves the tables as after the first', async () => {
    const events = [
      created({ id: uuid(1), key: 'k', created: at(1) }, position(0)),
      updated({ id: uuid(1), key: 'k', updated: at(2), description: 'x' }, position(1)),
      created({ id: uuid(2), key: 'k', created: at(3) }, position(2)),
      deleted({ id: uuid(2), key: 'k' }, position(3), at(4)),
      updated({ id: uuid(1), key: 'k', updated: at(5), data: '[1.0]' }, position(4)),
    ];
    await applyBatches([events]);
    const once = await tables();
    await applyBatches([events]);
    expect(await tables()).toEqual(once);
  });

  it('random histories in random batches end in the same tables as the reference fold', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), async ({ events, batches }) => {
        await reset();
        await applyBatches(batches);
        expect(await tables()).toEqual(modelTables(foldEvents(events)));
      }),
      { numRuns: 60 },
    );
  });

  it('plans a 5,000-event batch into a handful of statements that stay fast', async () => {
    const events: DecodedEvent[] = [];
    for (let i = 0; i < 2000; i++) events.push(created({ id: uuid(10_000 + i), key: `k-${i % 300}`, created: at(i), data: `{"i":${i}}` }, position(i)));
    for (let i = 0; i < 2000; i++) events.push(updated({ id: uuid(10_000 + i), key: `k-${i % 300}`, updated: at(5000 + i), description: 'u' }, position(2000 + i)));
    for (let i = 0; i < 1000; i++) events.push(deleted({ id: uuid(10_000 + 2 * i), key: `k-${(2 * i) % 300}` }, position(4000 + i), at(9000)));
    const plan = await inTransaction(async (sql) => {
      const loaded: Record<string, readonly Record<string, unknown>[]> = {};
      for (const [name, statement] of Object.entries(loadQueries(events))) loaded[name] = (await sql.query(statement)).rows;
      const p = planBatch(events, loaded);
      for (const statement of p.statements) await sql.query(statement);
      return p;
    });
    expect(plan.statements.length).toBeLessThanOrEqual(6);
    for (const s of plan.statements) expect(s.values.length).toBeLessThanOrEqual(20);
    expect(await tables()).toEqual(modelTables(foldEvents(events)));
  });
});

describe("the collection's copies of its run's flow, deployment, state type and tags and of its flow's tags (migrations 1700000000080 and 120)", () => {
  beforeEach(reset);

  const [R1, R2, F1, F2, D1, D2] = [uuid(101), uuid(102), uuid(201), uuid(202), uuid(301), uuid(302)];
  const runColumns = async () =>
    (await db.dataSource.query('SELECT key, run_flow_id, run_deployment_id, run_state_type FROM artifact_collection ORDER BY key')) as Record<string, unknown>[];
  const tagColumns = async () => (await db.dataSource.query('SELECT key, run_tags, run_flow_tags FROM artifact_collection ORDER BY key')) as Record<string, unknown>[];
  const copies = (flow: string | null, deployment: string | null, state: string | null) => ({ run_flow_id: flow, run_deployment_id: deployment, run_state_type: state });
  const tags = (run: string[] | null, flow: string[] | null) => ({ run_tags: run, run_flow_tags: flow });

  it('follow the run whatever the order: unknown run, run arriving later, run changing, another version, run deleted', async () => {
    await applyBatches([[created({ id: uuid(1), key: 'k', created: at(1), flow_run_id: R1 }, position(0))]]);
    expect(await runColumns()).toEqual([{ key: 'k', ...copies(null, null, null) }]);
    await applyBatches([[flowRunUpserted({ id: R1, updated: at(2), flow_id: F1, deployment_id: D1, state_type: 'RUNNING', state_name: 'Running' }, runPosition(0))]]);
    expect(await runColumns()).toEqual([{ key: 'k', ...copies(F1, D1, 'RUNNING') }]);
    await applyBatches([[flowRunUpserted({ id: R1, updated: at(3), flow_id: F2, deployment_id: D2, state_type: 'COMPLETED', state_name: 'Completed' }, runPosition(1))]]);
    expect(await runColumns()).toEqual([{ key: 'k', ...copies(F2, D2, 'COMPLETED') }]);
    // An older snapshot changes nothing.
    await applyBatches([[flowRunUpserted({ id: R1, updated: at(2), flow_id: F1, deployment_id: D1, state_type: 'RUNNING', state_name: 'Running' }, runPosition(2))]]);
    expect(await runColumns()).toEqual([{ key: 'k', ...copies(F2, D2, 'COMPLETED') }]);
    // A run and a new version of the key in one batch.
    await applyBatches([
      [
        flowRunUpserted({ id: R2, updated: at(4), flow_id: F1, deployment_id: null, state_type: 'FAILED', state_name: 'Failed' }, runPosition(3)),
        created({ id: uuid(2), key: 'k', created: at(5), flow_run_id: R2 }, position(1)),
      ],
    ]);
    expect(await runColumns()).toEqual([{ key: 'k', ...copies(F1, null, 'FAILED') }]);
    await applyBatches([[entityDeleted('prefect.flow-run.deleted', { id: R2, updated: at(6) }, runPosition(4))]]);
    expect(await runColumns()).toEqual([{ key: 'k', ...copies(null, null, null) }]);
    // The latest version deleted: the collection falls back to the first, whose run is known.
    await applyBatches([[deleted({ id: uuid(2), key: 'k' }, position(2), at(7))]]);
    expect(await runColumns()).toEqual([{ key: 'k', ...copies(F2, D2, 'COMPLETED') }]);
  });

  it("a version's copy of its run's deployment (migration 130) follows the run whatever the order: unknown run, keyless versions, run changing, run deleted", async () => {
    const versionCopies = async () => (await db.dataSource.query('SELECT id, run_deployment_id FROM artifact ORDER BY id')) as Record<string, unknown>[];
    const of = (...pairs: [number, string | null][]) => pairs.map(([n, deployment]) => ({ id: uuid(n), run_deployment_id: deployment }));
    await applyBatches([[created({ id: uuid(1), key: 'k', created: at(1), flow_run_id: R1 }, position(0)), created({ id: uuid(2), created: at(1), flow_run_id: R1 }, position(1)), created({ id: uuid(3), created: at(1) }, position(2))]]);
    expect(await versionCopies()).toEqual(of([1, null], [2, null], [3, null]));
    await applyBatches([[flowRunUpserted({ id: R1, updated: at(2), flow_id: F1, deployment_id: D1 }, runPosition(0))]]);
    expect(await versionCopies()).toEqual(of([1, D1], [2, D1], [3, null]));
    await applyBatches([[flowRunUpserted({ id: R1, updated: at(3), flow_id: F1, deployment_id: D2 }, runPosition(1))]]);
    // An older snapshot changes nothing; a new version of a known run copies its deployment as it is inserted.
    await applyBatches([[flowRunUpserted({ id: R1, updated: at(2), flow_id: F1, deployment_id: D1 }, runPosition(2))]]);
    await applyBatches([[created({ id: uuid(4), created: at(4), flow_run_id: R1 }, position(3))]]);
    expect(await versionCopies()).toEqual(of([1, D2], [2, D2], [3, null], [4, D2]));
    // A run and its version in one batch, then the first run deleted.
    await applyBatches([[flowRunUpserted({ id: R2, updated: at(5), flow_id: F1, deployment_id: D1 }, runPosition(3)), created({ id: uuid(5), created: at(5), flow_run_id: R2 }, position(4))]]);
    await applyBatches([[entityDeleted('prefect.flow-run.deleted', { id: R1, updated: at(6) }, runPosition(4))]]);
    expect(await versionCopies()).toEqual(of([1, null], [2, null], [3, null], [4, null], [5, D1]));
  });

  it("follow the run's tags and its flow's tags whatever the order: flow after the run, tags changing, the run moving to another flow, flow deleted", async () => {
    await applyBatches([[created({ id: uuid(1), key: 'k', created: at(1), flow_run_id: R1 }, position(0)), created({ id: uuid(2), key: 'j', created: at(1) }, position(1))]]);
    expect(await tagColumns()).toEqual([{ key: 'j', ...tags(null, null) }, { key: 'k', ...tags(null, null) }]);
    await applyBatches([[flowRunUpserted({ id: R1, updated: at(2), flow_id: F1, tags: ['nightly', 'b'] }, runPosition(0))]]);
    expect(await tagColumns()).toEqual([{ key: 'j', ...tags(null, null) }, { key: 'k', ...tags(['nightly', 'b'], null) }]);
    // The flow arrives after its run, then its tags change; an older flow snapshot changes nothing.
    await applyBatches([[flowUpserted({ id: F1, updated: at(3), tags: ['team-1'] }, runPosition(1))]]);
    expect(await tagColumns()).toEqual([{ key: 'j', ...tags(null, null) }, { key: 'k', ...tags(['nightly', 'b'], ['team-1']) }]);
    await applyBatches([[flowUpserted({ id: F1, updated: at(4), tags: [] }, runPosition(2))]]);
    await applyBatches([[flowUpserted({ id: F1, updated: at(3), tags: ['team-1'] }, runPosition(3))]]);
    expect(await tagColumns()).toEqual([{ key: 'j', ...tags(null, null) }, { key: 'k', ...tags(['nightly', 'b'], []) }]);
    // The run moves to a flow not yet known, with other tags; that flow comes in the same batch as a new version.
    await applyBatches([[flowRunUpserted({ id: R1, updated: at(5), flow_id: F2, tags: [] }, runPosition(4))]]);
    expect(await tagColumns()).toEqual([{ key: 'j', ...tags(null, null) }, { key: 'k', ...tags([], null) }]);
    await applyBatches([[flowUpserted({ id: F2, updated: at(6), tags: ['team-2'] }, runPosition(5)), created({ id: uuid(3), key: 'k', created: at(7), flow_run_id: R1 }, position(2))]]);
    expect(await tagColumns()).toEqual([{ key: 'j', ...tags(null, null) }, { key: 'k', ...tags([], ['team-2']) }]);
    await applyBatches([[entityDeleted('prefect.flow.deleted', { id: F2, updated: at(8) }, runPosition(6))]]);
    expect(await tagColumns()).toEqual([{ key: 'j', ...tags(null, null) }, { key: 'k', ...tags([], null) }]);
    await applyBatches([[entityDeleted('prefect.flow-run.deleted', { id: R1, updated: at(9) }, runPosition(7))]]);
    expect(await tagColumns()).toEqual([{ key: 'j', ...tags(null, null) }, { key: 'k', ...tags(null, null) }]);
  });

  /**
   * Writes the artifact batch in a transaction held open, then starts `other` (its snapshot
   * cannot see that collection row) and lets the first commit once `other` waits for the
   * run lock; without the lock `other` would commit first and miss the row.
   */
  async function besideAnOpenArtifactBatch(other: DecodedEvent[]): Promise<void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const artifactWritten = new Promise<void>((resolve) => (written = resolve));
    const artifactBatch = inTransaction(async (sql) => {
      await projectBatch(sql, [created({ id: uuid(1), key: 'k', created: at(1), flow_run_id: R1 }, position(0))]);
      written();
      await held;
    });
    await artifactWritten;
    const otherBatch = inTransaction((sql) => projectBatch(sql, other));
    const waiting = async () => ((await db.dataSource.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)) as { n: number }[])[0]!.n;
    let otherDone = false;
    void otherBatch.finally(() => (otherDone = true)).catch(() => undefined);
    while (!otherDone && (await waiting()) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await Promise.all([artifactBatch, otherBatch]);
  }

  it('an artifact batch and a flow committed concurrently still meet: the flow batch waits for the collection writer', async () => {
    await applyBatches([[flowRunUpserted({ id: R1, updated: at(1), flow_id: F1, tags: [] }, runPosition(0))]]);
    await besideAnOpenArtifactBatch([flowUpserted({ id: F1, updated: at(2), tags: ['team-1'] }, runPosition(1))]);
    expect(await tagColumns()).toEqual([{ key: 'k', ...tags([], ['team-1']) }]);
  });

  it('an artifact batch and a new run committed concurrently still meet: the run batch waits for the collection writer', async () => {
    await besideAnOpenArtifactBatch([flowRunUpserted({ id: R1, updated: at(2), flow_id: F1, deployment_id: D1, state_type: 'COMPLETED', state_name: 'Completed' }, runPosition(0))]);
    expect(await runColumns()).toEqual([{ key: 'k', ...copies(F1, D1, 'COMPLETED') }]);
    expect(await db.dataSource.query('SELECT run_deployment_id FROM artifact')).toEqual([{ run_deployment_id: D1 }]);
  });
});
