import type { AppProcess } from '../../infra/local/apps';
import { waitFor } from '../../infra/local/apps';
import { report } from './support/report';
import { FAULT_SCALE, sized } from './support/scale';
import { prng, Workload } from './support/workload';
import { Load, sleep, waitForProgress, World } from './support/world';

// Issue #14, fault 5: 4 ingest instances of one group on 6 partitions of the 3-broker
// cluster; every KILL_EVERY_MS one of them, chosen at random, is killed with kill -9 and a
// new one started in its place, while the broker leading most partitions restarts once
// (a controlled SIGTERM shutdown, the rolling restart an operator does; fault 1 kills a
// leader with kill -9). Full size (FAULT_SCALE=full, `npm run soak`): a kill every 20 s for
// 2 minutes; `npm test` kills every 10 s for 40 s at a lower rate.

const KILL_EVERY_MS = sized({ ci: 10_000, full: 20_000 });
const CHURN_MS = sized({ ci: 40_000, full: 120_000 });
const RATE = sized({ ci: 300, full: 1000 });
const INSTANCES = 4;

jest.setTimeout(sized({ ci: 240_000, full: 900_000 }));

describe('reliability: ingest instances killed on the cluster while a broker restarts', () => {
  let world: World;

  beforeAll(async () => {
    world = await World.create('instancechurn', { cluster: { standbys: 0 } });
  });

  afterAll(async () => {
    await world?.close();
  });

  test('4 instances on 6 partitions, one killed every few seconds, one broker restarted: the read model equals the oracle', async () => {
    const t0 = Date.now();
    const random = prng(5);
    const running: AppProcess[] = [];
    for (let i = 0; i < INSTANCES; i++) running.push(await world.startIngest());
    const admin = await world.admin();
    await waitFor('the topics the ingest app creates', async () => {
      const topics = new Set(await admin.listTopics());
      return topics.has(world.topics.artifacts) && topics.has(world.topics.runs) ? true : undefined;
    });
    const load = new Load(world, new Workload(5), RATE);
    await waitForProgress(world, 0n);

    const metadata = await admin.fetchTopicMetadata({ topics: [world.topics.artifacts] });
    const leaders = new Map<number, number>();
    for (const p of metadata.topics[0]!.partitions) leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
    const [broker] = [...leaders.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const brokerMs = { stop: 0, start: 0 };
    const brokerRestart = (async () => {
      await sleep(CHURN_MS * 0.4);
      const stoppingAt = Date.now();
      await world.cluster.stopBroker(broker);
      brokerMs.stop = Date.now() - stoppingAt;
      await sleep(5_000);
      const startingAt = Date.now();
      await world.cluster.startBroker(broker);
      brokerMs.start = Date.now() - startingAt;
    })();

    let kills = 0;
    const started = Date.now();
    while (Date.now() - started < CHURN_MS) {
      await sleep(KILL_EVERY_MS);
      const victim = running.splice(Math.floor(random() * running.length), 1)[0]!;
      await victim.kill9();
      kills++;
      running.push(await world.startIngest());
    }
    await brokerRestart;
    const produced = await load.stop();
    const stoppedAt = Date.now();
    await world.waitDrained(180_000);
    const drainMs = Date.now() - stoppedAt;
    expect(running.filter((app) => app.child.exitCode !== null || app.child.signalCode !== null).map((app) => app.output().slice(-2000))).toEqual([]);

    const v = await world.verify();
    // Every event whose send Kafka acknowledged is in the topics (see fault 1).
    const acknowledgedMissing = load.acknowledged.filter((id) => !v.eventIds.has(id));
    report('cluster instance churn', {
      scale: FAULT_SCALE,
      events: v.messages,
      produced,
      acknowledgedMissing: acknowledgedMissing.length,
      producerRetries: load.failures,
      rate: RATE,
      kills,
      killEverySeconds: KILL_EVERY_MS / 1000,
      churnSeconds: CHURN_MS / 1000,
      restartedBroker: broker,
      ledPartitions: leaders.get(broker),
      brokerStopMs: brokerMs.stop,
      brokerStartMs: brokerMs.start,
      drainMs,
      seconds: Math.round((Date.now() - t0) / 1000),
      rows: v.rows,
      mismatches: v.mismatches,
    });
    expect(v.messages).toBeGreaterThan(0);
    expect(load.acknowledged.length).toBeGreaterThan(0);
    expect(acknowledgedMissing).toEqual([]);
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);
    expect(v.appliedMessages).toBe(v.messages);
  });
});
