import { randomUUID } from 'node:crypto';
import { CloudEventMode, encodeEvent, EventType, rawJson, WirePayloads } from '@app/contracts';
import { collectionId } from '@app/projections';
import { AppProcess } from '../../infra/local/apps';
import { count, ingestCounts, IngestFixture } from '../support/ingest-fixture';

jest.setTimeout(120_000);

// Issue #3: every event type of docs/events.md, in both CloudEvents Kafka bindings,
// through the real broker into the real tables; and the ordering rules of
// "How the read model applies events" (2, 4, 5, 6) observed in PostgreSQL.

const T = (seconds: number, offset = 'Z') => {
  const iso = new Date(Date.UTC(2025, 2, 1, 10, 0, 0) + seconds * 1000).toISOString().replace('.000Z', '');
  return `${iso}${offset}`;
};
/** Canonical (stored) form of T(seconds). */
const C = (seconds: number) => new Date(Date.UTC(2025, 2, 1, 10, 0, 0) + seconds * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

describe('ingest: the event contract through Kafka and PostgreSQL', () => {
  let world: IngestFixture;
  let ingest: AppProcess;

  beforeAll(async () => {
    world = await IngestFixture.create('contract', { partitions: 3 });
    ingest = await world.start();
  });

  afterAll(async () => {
    await world?.close();
  });

  async function settle(): Promise<void> {
    await world.caughtUp(ingest);
    // Whatever else a test checks, the tables always equal the reference fold of the log.
    expect(await world.tables()).toEqual(world.oracle());
  }

  describe.each<CloudEventMode>(['structured', 'binary'])('%s binding', (mode) => {
    const key = `report-${mode}-${randomUUID().slice(0, 8)}`;
    const goneKey = `gone-${mode}-${randomUUID().slice(0, 8)}`;
    const ids = {
      flow: randomUUID(),
      deployment: randomUUID(),
      flowRun: randomUUID(),
      taskRun: randomUUID(),
      flowGone: randomUUID(),
      deploymentGone: randomUUID(),
      flowRunGone: randomUUID(),
      taskRunGone: randomUUID(),
      v1: randomUUID(),
      v2: randomUUID(),
      keyless: randomUUID(),
      gone: randomUUID(),
    };

    test('run, flow and deployment upserts and deletes land in their tables and tombstones', async () => {
      const e = <T extends EventType>(type: T, data: WirePayloads[T]) => encodeEvent(type, data, { mode });
      await world.produce('runs', [
        e('prefect.flow.upserted', { id: ids.flow, name: `etl-${mode}`, tags: ['etl', mode], created: T(0), updated: T(1) }),
        e('prefect.deployment.upserted', {
          id: ids.deployment,
          flow_id: ids.flow,
          name: 'nightly',
          tags: ['prod'],
          work_queue_name: 'default',
          paused: true,
          concurrency_limit: 3,
          created: T(0),
          updated: T(2),
          // Unknown fields are ignored (forward compatibility).
          schedules: [{ cron: '0 0 * * *' }],
        } as WirePayloads['prefect.deployment.upserted']),
        e('prefect.flow-run.upserted', {
          id: ids.flowRun,
          flow_id: ids.flow,
          deployment_id: ids.deployment,
          name: 'brave-otter',
          tags: ['a,b', '"quoted"'],
          // The binary run uses Prefect's nested state object, the structured one the flat fields.
          ...(mode === 'binary' ? { state: { type: 'RUNNING', name: 'Running' } } : { state_type: 'RUNNING', state_name: 'Running' }),
          flow_version: '1.2',
          work_queue_name: 'default',
          parent_task_run_id: null,
          idempotency_key: `idem-${mode}`,
          start_time: T(3, '+02:00'),
          end_time: null,
          expected_start_time: T(3),
          next_scheduled_start_time: null,
          created_by: { id: ids.deployment, type: 'DEPLOYMENT', display_value: 'nightly' },
          created: T(0),
          updated: T(4),
        }),
        e('prefect.task-run.upserted', {
          id: ids.taskRun,
          flow_run_id: ids.flowRun,
          name: 'load-1',
          tags: [],
          task_key: 'load',
          dynamic_key: '1',
          state_type: 'COMPLETED',
          state_name: 'Completed',
          start_time: T(5),
          end_time: T(6),
          expected_start_time: T(5),
          created: T(5),
          updated: T(6),
        }),
        e('prefect.flow.upserted', { id: ids.flowGone, name: 'doomed', tags: [], created: T(0), updated: T(1) }),
        e('prefect.deployment.upserted', { id: ids.deploymentGone, name: 'doomed', created: T(0), updated: T(1) }),
        e('prefect.flow-run.upserted', { id: ids.flowRunGone, name: 'doomed', created: T(0), updated: T(1) }),
        e('prefect.task-run.upserted', { id: ids.taskRunGone, name: 'doomed', created: T(0), updated: T(1) }),
        e('prefect.flow.deleted', { id: ids.flowGone, updated: T(10) }),
        e('prefect.deployment.deleted', { id: ids.deploymentGone, updated: T(10) }),
        e('prefect.flow-run.deleted', { id: ids.flowRunGone, updated: T(10) }),
        e('prefect.task-run.deleted', { id: ids.taskRunGone, updated: T(10) }),
      ]);
      await settle();

      const tables = await world.tables();
      expect(tables.flow.find((r) => r.id === ids.flow)).toEqual({ id: ids.flow, created: C(0), updated: C(1), name: `etl-${mode}`, tags: ['etl', mode] });
      expect(tables.deployment.find((r) => r.id === ids.deployment)).toEqual({
        id: ids.deployment,
        created: C(0),
        updated: C(2),
        flow_id: ids.flow,
        name: 'nightly',
        tags: ['prod'],
        work_queue_name: 'default',
        paused: true,
        concurrency_limit: 3,
      });
      expect(tables.flow_run.find((r) => r.id === ids.flowRun)).toEqual({
        id: ids.flowRun,
        created: C(0),
        updated: C(4),
        flow_id: ids.flow,
        deployment_id: ids.deployment,
        name: 'brave-otter',
        tags: ['a,b', '"quoted"'],
        state_type: 'RUNNING',
        state_name: 'Running',
        flow_version: '1.2',
        work_queue_name: 'default',
        parent_task_run_id: null,
        idempotency_key: `idem-${mode}`,
        start_time: C(3 - 2 * 3600),
        end_time: null,
        expected_start_time: C(3),
        next_scheduled_start_time: null,
        created_by: { id: ids.deployment, type: 'DEPLOYMENT', display_value: 'nightly' },
      });
      expect(tables.task_run.find((r) => r.id === ids.taskRun)).toMatchObject({ flow_run_id: ids.flowRun, task_key: 'load', dynamic_key: '1', state_type: 'COMPLETED', end_time: C(6) });
      for (const [table, id] of [
        ['flow', ids.flowGone],
        ['deployment', ids.deploymentGone],
        ['flow_run', ids.flowRunGone],
        ['task_run', ids.taskRunGone],
      ] as const) {
        expect((tables[table] as { id: string }[]).some((r) => r.id === id)).toBe(false);
        expect(tables.tombstone).toContainEqual({ entity: table, id, updated: C(10) });
      }
    });

    test('artifact created, updated and deleted: versions, the latest-per-key row, keyless versions', async () => {
      const e = <T extends EventType>(type: T, data: WirePayloads[T]) => encodeEvent(type, data, { mode });
      const longValue = 'x'.repeat(600);
      await world.produce('artifacts', [
        e('prefect.artifact.created', {
          id: ids.v1,
          key,
          type: 'markdown',
          description: 'first',
          data: '# v1',
          metadata_: { team: 'sales', long: longValue },
          flow_run_id: ids.flowRun,
          task_run_id: ids.taskRun,
          created: T(100),
        }),
        e('prefect.artifact.created', { id: ids.v2, key, type: 'table', description: 'second', data: [{ a: 1 }], metadata_: null, flow_run_id: ids.flowRun, task_run_id: null, created: T(200) }),
        e('prefect.artifact.updated', { id: ids.v2, key, updated: T(300), description: null, data: { rows: 2 } }),
        e('prefect.artifact.created', { id: ids.keyless, key: null, type: 'result', data: 1.5, created: T(150) }),
        e('prefect.artifact.created', { id: ids.gone, key: goneKey, type: 'markdown', data: 'bye', created: T(100) }),
        e('prefect.artifact.deleted', { id: ids.gone, key: goneKey }),
      ]);
      await settle();

      const tables = await world.tables();
      const v1 = tables.artifact.find((r) => r.id === ids.v1);
      expect(v1).toMatchObject({ key, type: 'markdown', description: 'first', data: '"# v1"', created: C(100), updated: C(100), flow_run_id: ids.flowRun, task_run_id: ids.taskRun });
      // Prefect cuts metadata values to 500 characters plus "...".
      expect(JSON.parse(v1!.metadata_!)).toEqual({ team: 'sales', long: `${'x'.repeat(500)}...` });
      expect(tables.artifact.find((r) => r.id === ids.v2)).toMatchObject({ key, type: 'table', description: null, data: '{"rows":2}', updated: C(300), created: C(200) });
      expect(tables.artifact.find((r) => r.id === ids.keyless)).toMatchObject({ key: null, data: '1.5' });
      expect(tables.artifact.some((r) => r.id === ids.gone)).toBe(false);
      expect(tables.tombstone).toContainEqual(expect.objectContaining({ entity: 'artifact', id: ids.gone }));

      expect(tables.artifact_collection.find((c) => c.key === key)).toEqual({
        id: collectionId(key),
        key,
        created: C(100),
        updated: C(300),
        latest_id: ids.v2,
        type: 'table',
        description: null,
        data: '{"rows":2}',
        metadata_: null,
        flow_run_id: ids.flowRun,
        task_run_id: null,
      });
      expect(tables.artifact_collection.some((c) => c.key === goneKey)).toBe(false);
      expect(tables.artifact_collection.some((c) => c.latest_id === ids.keyless)).toBe(false);
    });
  });

  test('every one of the 11 types was applied at least once, from both bindings, none dead-lettered', async () => {
    const text = await ingestCounts(ingest);
    const types = [
      'prefect.artifact.created',
      'prefect.artifact.updated',
      'prefect.artifact.deleted',
      'prefect.flow.upserted',
      'prefect.flow.deleted',
      'prefect.deployment.upserted',
      'prefect.deployment.deleted',
      'prefect.flow-run.upserted',
      'prefect.flow-run.deleted',
      'prefect.task-run.upserted',
      'prefect.task-run.deleted',
    ];
    expect(types.filter((type) => count(text, 'applied', { type }) < 1)).toEqual([]);
    expect(count(text, 'dead_lettered')).toBe(0);
    const bindings = new Set(world.produced.map((p) => (p.message.headers['ce_specversion'] ? 'binary' : 'structured')));
    expect([...bindings].sort()).toEqual(['binary', 'structured']);
  });

  describe('ordering rules', () => {
    const create = (id: string, key: string | null, created: number, extra: Record<string, unknown> = {}) =>
      encodeEvent('prefect.artifact.created', { id, key, type: 'markdown', description: `created ${created}`, data: `v@${created}`, created: T(created), ...extra });

    test('versions produced out of created order: the latest is the greatest created, ties go to the later offset', async () => {
      const key = `ooo-${randomUUID().slice(0, 8)}`;
      const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      // Produced b (t=50), a (t=10), c (t=30): latest must stay b.
      await world.produce('artifacts', [create(b, key, 50), create(a, key, 10), create(c, key, 30)]);
      await settle();
      let row = (await world.tables()).artifact_collection.find((r) => r.key === key);
      expect(row).toMatchObject({ latest_id: b, description: 'created 50', created: C(50) });
      // Same created as b, produced later: wins the tie by offset.
      await world.produce('artifacts', [create(d, key, 50)]);
      await settle();
      row = (await world.tables()).artifact_collection.find((r) => r.key === key);
      expect(row).toMatchObject({ latest_id: d, description: 'created 50' });
    });

    test('delete of the latest falls back to the next latest; deleting the last version removes the row; non-latest deletes keep it', async () => {
      const key = `del-${randomUUID().slice(0, 8)}`;
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      await world.produce('artifacts', [create(a, key, 10), create(c, key, 30), create(b, key, 20)]);
      await settle();
      const del = (id: string, at: number) => encodeEvent('prefect.artifact.deleted', { id, key }, { time: T(at) });

      await world.produce('artifacts', [del(a, 40)]); // not the latest
      await settle();
      expect((await world.tables()).artifact_collection.find((r) => r.key === key)).toMatchObject({ latest_id: c });

      await world.produce('artifacts', [del(c, 41)]); // the latest: falls back to b
      await settle();
      const fallback = (await world.tables()).artifact_collection.find((r) => r.key === key);
      // Prefect's delete fallback copies the promoted version's created and updated (docs/api.md §10.3).
      expect(fallback).toMatchObject({ latest_id: b, description: 'created 20', data: '"v@20"', created: C(20), updated: C(20) });

      await world.produce('artifacts', [del(b, 42)]); // the last one
      await settle();
      const tables = await world.tables();
      expect(tables.artifact_collection.find((r) => r.key === key)).toBeUndefined();
      expect(tables.artifact.filter((r) => r.key === key)).toEqual([]);

      // A redelivered create of a deleted version does not revive it.
      await world.produce('artifacts', [create(b, key, 20)]);
      await settle();
      expect((await world.tables()).artifact_collection.find((r) => r.key === key)).toBeUndefined();
    });

    test('updates: of the latest show in the collection, of a non-latest only in its version, stale ones change nothing, unknown ids are ignored', async () => {
      const key = `upd-${randomUUID().slice(0, 8)}`;
      const [old, latest] = [randomUUID(), randomUUID()];
      await world.produce('artifacts', [create(old, key, 10, { metadata_: { v: 'old' } }), create(latest, key, 20)]);
      await settle();
      const before = await ingestCounts(ingest);
      const upd = (id: string, at: number, fields: Record<string, unknown>) => encodeEvent('prefect.artifact.updated', { id, key, updated: T(at), ...fields });
      await world.produce('artifacts', [
        upd(old, 100, { description: 'old edited', metadata_: { v: 'edited' } }),
        upd(latest, 110, { data: rawJson('{"n":1.0}') }),
        upd(latest, 105, { description: 'stale: must not apply' }),
        upd(randomUUID(), 120, { description: 'unknown id' }),
      ]);
      await settle();
      const tables = await world.tables();
      expect(tables.artifact.find((r) => r.id === old)).toMatchObject({ description: 'old edited', metadata_: '{"v":"edited"}', updated: C(100), data: '"v@10"' });
      expect(tables.artifact.find((r) => r.id === latest)).toMatchObject({ description: 'created 20', data: '{"n":1.0}', updated: C(110) });
      expect(tables.artifact_collection.find((r) => r.key === key)).toMatchObject({ latest_id: latest, description: 'created 20', data: '{"n":1.0}', updated: C(110), created: C(10) });
      const after = await ingestCounts(ingest);
      expect(count(after, 'applied', { type: 'prefect.artifact.updated' }) - count(before, 'applied', { type: 'prefect.artifact.updated' })).toBe(2);
      expect(count(after, 'ignored', { reason: 'stale' }) - count(before, 'ignored', { reason: 'stale' })).toBe(1);
      expect(count(after, 'ignored', { reason: 'unknown_id' }) - count(before, 'ignored', { reason: 'unknown_id' })).toBe(1);
      expect(count(after, 'dead_lettered') - count(before, 'dead_lettered')).toBe(0);
    });

    test('snapshots are last-writer-wins; a tombstone beats a late older snapshot; a newer snapshot revives', async () => {
      const run = randomUUID();
      const flow = randomUUID();
      const snap = (updated: number, name: string) => encodeEvent('prefect.flow-run.upserted', { id: run, name, state_type: 'RUNNING', state_name: name, created: T(0), updated: T(updated) });
      await world.produce('runs', [snap(20, 'second'), snap(10, 'first, late')]);
      await settle();
      expect((await world.tables()).flow_run.find((r) => r.id === run)).toMatchObject({ name: 'second', updated: C(20) });

      await world.produce('runs', [encodeEvent('prefect.flow-run.deleted', { id: run, updated: T(30) }), snap(25, 'older than the delete')]);
      await settle();
      let tables = await world.tables();
      expect(tables.flow_run.find((r) => r.id === run)).toBeUndefined();
      expect(tables.tombstone).toContainEqual({ entity: 'flow_run', id: run, updated: C(30) });

      await world.produce('runs', [snap(40, 'revived')]);
      await settle();
      expect((await world.tables()).flow_run.find((r) => r.id === run)).toMatchObject({ name: 'revived', updated: C(40) });

      // A delete older than the stored snapshot removes nothing.
      await world.produce('runs', [
        encodeEvent('prefect.flow.upserted', { id: flow, name: 'kept', created: T(0), updated: T(50) }),
        encodeEvent('prefect.flow.deleted', { id: flow, updated: T(45) }),
      ]);
      await settle();
      tables = await world.tables();
      expect(tables.flow.find((r) => r.id === flow)).toMatchObject({ name: 'kept' });
    });
  });
});
