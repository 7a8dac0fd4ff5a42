import { whileTopicsSettle } from '@app/contracts';
import { report } from './support/report';
import { sized } from './support/scale';
import { Workload } from './support/workload';
import { Load, sleep, waitForProgress, World } from './support/world';

// Issue #14, fault 1: on the 3-broker cluster, kill -9 the broker leading most partitions
// of the artifact topic while 2 ingest instances consume; restart it later. Replication
// factor 3 with min.insync.replicas 2 (what the ingest app gives the topics it creates)
// keeps every acknowledged event: the read model equals the oracle, each message applied once.

jest.setTimeout(300_000);

const EVENTS = sized({ ci: 6_000, full: 100_000 });

describe('reliability: leader broker killed on the cluster', () => {
  let world: World;

  beforeAll(async () => {
    world = await World.create('leaderkill', { cluster: { standbys: 0 } });
  });

  afterAll(async () => {
    await world?.close();
  });

  test('the ingest app creates replicated topics; kill -9 of the busiest leader loses and doubles nothing', async () => {
    const ingests = [await world.startIngest(), await world.startIngest()];
    const admin = await world.admin();
    await world.topicsReady();
    const metadata = await admin.fetchTopicMetadata({ topics: [world.topics.artifacts, world.topics.runs] });
    for (const topic of metadata.topics) expect(topic.partitions.map((p) => p.replicas.length)).toEqual(Array(6).fill(3));
    // A broker may not know the new topic yet (UNKNOWN_TOPIC_OR_PARTITION): asked again while the cluster settles.
    const configs = await whileTopicsSettle(() =>
      admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: world.topics.artifacts, configNames: ['min.insync.replicas'] }] }),
    );
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('2');

    const load = new Load(world, new Workload(14), 600, EVENTS);
    await waitForProgress(world, 0n);
    const leaders = new Map<number, number>();
    for (const p of metadata.topics.find((t) => t.name === world.topics.artifacts)!.partitions) leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
    const [victim] = [...leaders.entries()].sort((a, b) => b[1] - a[1])[0]!;
    await sleep(1_000);
    await world.cluster.killBroker(victim);
    await sleep(5_000);
    expect(ingests.filter((app) => app.child.exitCode !== null).map((app) => app.output())).toEqual([]);
    await world.cluster.startBroker(victim);
    const produced = await load.done.then(() => load.stop());
    await world.waitDrained(120_000);

    const v = await world.verify();
    // The produce side: every event whose send Kafka acknowledged is in the topics. Before the
    // sends went one partition each (PartitionedSender), kafkajs 2.2.4 resolved sends of 275-332
    // of 6,000 messages that the topics then did not hold, in 2 of 4 runs (kafkajs issue #1303).
    // The ingest side: what Kafka holds is what the oracle folds.
    const acknowledgedMissing = load.acknowledged.filter((id) => !v.eventIds.has(id));
    report('cluster leader kill', { events: v.messages, produced, acknowledged: load.acknowledged.length, acknowledgedMissing: acknowledgedMissing.length, producerRetries: load.failures, victim, ledPartitions: leaders.get(victim), rows: v.rows, mismatches: v.mismatches });
    expect(v.messages).toBeGreaterThan(0);
    expect(load.acknowledged.length).toBe(produced);
    expect(acknowledgedMissing).toEqual([]);
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);
    expect(v.appliedMessages).toBe(v.messages);
  });
});
