import { report } from './support/report';
import { Workload } from './support/workload';
import { Load, sleep, waitForProgress, World } from './support/world';

// Issue #14, fault 3: kill -9 the PostgreSQL primary during ingest and promote its
// standby. The ingest app was given libpq's multi-host DATABASE_URL with
// target_session_attrs=read-write and is repointed by nobody: it finds the promoted
// server itself. Replication is asynchronous, so the last commits may be lost with
// their checkpoint; the ingest app then re-applies those events from Kafka.

jest.setTimeout(300_000);

describe('reliability: primary failover', () => {
  let world: World;

  beforeAll(async () => {
    world = await World.create('failover', { cluster: { standbys: 1 } });
  });

  afterAll(async () => {
    await world?.close();
  });

  test('kill -9 of the primary, promotion of the standby: the ingest resumes on it, 0 mismatches', async () => {
    const ingest = await world.startIngest({ DATABASE_URL: world.cluster.failoverUrl });
    const load = new Load(world, new Workload(33), 500, 4_000);
    await waitForProgress(world, 0n, ingest);
    await sleep(1_500);
    const before = await world.progress();
    await world.cluster.killPostgres('primary');
    await sleep(2_000);
    const promotingAt = Date.now();
    await world.cluster.promote('standby_1');
    const resumed = await waitForProgress(world, before, undefined, 120_000);
    const resumeMs = Date.now() - promotingAt;
    const produced = await load.done.then(() => load.stop());
    await world.waitDrained(120_000);
    expect(ingest.child.exitCode).toBeNull();

    const v = await world.verify();
    report('cluster primary failover', { events: v.messages, produced, checkpointBeforeKill: before.toString(), checkpointAfterPromotion: resumed.toString(), resumeMs, rows: v.rows, mismatches: v.mismatches });
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);
    expect(v.appliedMessages).toBe(v.messages);
  });
});
