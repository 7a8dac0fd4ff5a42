import { randomUUID } from 'node:crypto';
import { AssignerProtocol } from 'kafkajs';
import { createTopicsSettled, dlqTopic, EncodedMessage, encodeEvent } from '@app/contracts';
import { readTables } from '@app/projections';
import { sqlOf } from '@app/persistence';
import { AppProcess, waitFor, waitForHttp } from '../../infra/local/apps';
import type { IngestCounts } from '../../apps/ingest/src/ingest.metrics';
import { createTestDatabase } from '../support/database';
import { count, getText, ingestCounts, IngestFixture, ProducedMessage } from '../support/ingest-fixture';

jest.setTimeout(180_000);

// Issue #3 and docs/operations.md: start-up (topics), probes, SIGTERM with a batch in
// flight, and several instances in one consumer group.

const T = (seconds: number) => new Date(Date.UTC(2025, 6, 1) + seconds * 1000).toISOString();

function artifacts(n: number, tag: string): EncodedMessage[] {
  const keys = Array.from({ length: 40 }, (_, i) => `${tag}-${i}-${randomUUID().slice(0, 6)}`);
  return Array.from({ length: n }, (_, i) =>
    encodeEvent('prefect.artifact.created', { id: randomUUID(), key: keys[i % keys.length]!, type: 'markdown', data: `${tag} ${i}`, created: T(i) }, { mode: i % 2 ? 'binary' : 'structured' }),
  );
}

interface ReadyBody {
  caught_up: boolean;
  partitions: { topic: string; partition: number; high_watermark: string; checkpoint: string | null; lag: string }[];
}

describe('ingest: lifecycle', () => {
  describe('start-up', () => {
    let world: IngestFixture;

    beforeAll(async () => {
      world = await IngestFixture.create('lifecycle-topics', { partitions: 4, createTopics: false });
    });

    afterAll(async () => {
      await world?.close();
    });

    test('creates missing topics and their .dlq with KAFKA_TOPIC_PARTITIONS partitions, leaves existing ones as they are; /health and /ready answer', async () => {
      // The artifact topic exists already with 2 partitions; nothing else does.
      await createTopicsSettled(world.kafka.admin, [{ topic: world.topics.artifacts, numPartitions: 2, replicationFactor: 1 }]);
      const app = await world.start({ KAFKA_TOPIC_PARTITIONS: '4' });
      const { topics } = await world.kafka.admin.fetchTopicMetadata({
        topics: [world.topics.artifacts, dlqTopic(world.topics.artifacts), world.topics.runs, dlqTopic(world.topics.runs)],
      });
      const partitions = Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]));
      expect(partitions).toEqual({
        [world.topics.artifacts]: 2,
        [dlqTopic(world.topics.artifacts)]: 4,
        [world.topics.runs]: 4,
        [dlqTopic(world.topics.runs)]: 4,
      });

      const health = await getText(app, '/health');
      expect(health.status).toBe(200);
      // Empty topics: caught up at once, every partition of both topics listed with no lag.
      const ready = await waitForHttp(app, '/ready', (status) => status === 200);
      const body = JSON.parse(ready.body) as ReadyBody;
      expect(body.caught_up).toBe(true);
      expect(body.partitions.map((p) => `${p.topic}:${p.partition}:${p.lag}`).sort()).toEqual(
        [0, 1].map((p) => `${world.topics.artifacts}:${p}:0`).concat([0, 1, 2, 3].map((p) => `${world.topics.runs}:${p}:0`)).sort(),
      );

      expect(await app.stop()).toBe(0);
      await expect(fetch(app.url + '/health')).rejects.toThrow();
    });
  });

  describe('probes and SIGTERM', () => {
    let world: IngestFixture;
    let ingest: AppProcess;

    beforeAll(async () => {
      world = await IngestFixture.create('lifecycle-probes', { partitions: 3 });
      ingest = await world.start();
    });

    afterAll(async () => {
      await world?.close();
    });

    test('/ready is 503 with the lag of each partition while behind, 200 once caught up', async () => {
      const [first] = await world.produce('artifacts', artifacts(1, 'ready'));
      await world.caughtUp(ingest);
      const partition = first!.partition;
      const key = first!.message.key!.toString();

      // The database is slow for this partition: its batches wait, its checkpoint stays behind.
      const hold = await world.holdCheckpoints({ row: { topic: world.topics.artifacts, partition } });
      try {
        const more = artifacts(25, 'ready').map((m) => ({ ...m, key: Buffer.from(key) }));
        await world.produce('artifacts', more);
        const { status, body } = await getText(ingest, '/ready');
        expect(status).toBe(503);
        const report = JSON.parse(body) as ReadyBody;
        expect(report.caught_up).toBe(false);
        expect(report.partitions).toHaveLength(6);
        const behind = report.partitions.find((p) => p.topic === world.topics.artifacts && p.partition === partition);
        expect(behind).toEqual({ topic: world.topics.artifacts, partition, high_watermark: '26', checkpoint: '1', lag: '25' });
        expect(report.partitions.filter((p) => p !== behind).map((p) => p.lag)).toEqual(['0', '0', '0', '0', '0']);
        await hold.waitForBlockedBatch();
        expect((await getText(ingest, '/ready')).status).toBe(503);
        expect((await getText(ingest, '/health')).status).toBe(200);
      } finally {
        await hold.release();
      }
      await world.caughtUp(ingest);
      const report = JSON.parse((await getText(ingest, '/ready')).body) as ReadyBody;
      expect(report.partitions.find((p) => p.topic === world.topics.artifacts && p.partition === partition)).toMatchObject({ checkpoint: '26', lag: '0' });
      expect(await world.tables()).toEqual(world.oracle());
    });

    test('SIGTERM with a batch in flight exits 0 by itself, inside its shutdown deadline; the tables match the checkpoints; a restart finishes the work', async () => {
      const [first] = await world.produce('artifacts', artifacts(1, 'term'));
      await world.caughtUp(ingest);
      const key = first!.message.key!.toString();
      const hold = await world.holdCheckpoints({ row: { topic: world.topics.artifacts, partition: first!.partition } });
      let code: number | string | null;
      try {
        await world.produce('artifacts', artifacts(200, 'term').map((m) => ({ ...m, key: Buffer.from(key) })));
        await hold.waitForBlockedBatch();
        // Exit code 0 is the outcome that matters: past its deadline (main.ts) the app exits 1,
        // and stop() sends SIGKILL only after a grace far beyond that deadline.
        const stopping = ingest.stop(60_000);
        // Let the batch go once the signal is on its way: it must finish or roll back, not hang.
        await hold.release();
        code = await stopping;
      } finally {
        await hold.release();
      }
      expect(code).toBe(0);
      const checkpoints = await world.checkpoints();
      expect(await world.tables()).toEqual(world.oracle((p) => BigInt(p.offset) < (checkpoints.get(`${p.topic}:${p.partition}`) ?? 0n)));

      ingest = await world.start();
      await world.caughtUp(ingest);
      expect(await world.tables()).toEqual(world.oracle());
    });
  });

  describe('two instances in one consumer group', () => {
    let world: IngestFixture;

    beforeAll(async () => {
      world = await IngestFixture.create('lifecycle-group', { partitions: 3 });
    });

    afterAll(async () => {
      await world?.close();
    });

    async function assignments(): Promise<Map<string, string[]>> {
      const [group] = (await world.kafka.admin.describeGroups([world.groupId])).groups;
      const out = new Map<string, string[]>();
      if (group?.state !== 'Stable') return out;
      for (const member of group.members) {
        const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        out.set(member.memberId, Object.entries(decoded?.assignment ?? {}).flatMap(([topic, ps]) => ps.map((p) => `${topic}:${p}`)));
      }
      return out;
    }

    test('share the partitions, apply each event once between them, and build the same read model as one instance', async () => {
      // Both start at once (migrations under the advisory lock).
      const [a, b] = await Promise.all([world.start(), world.start()]);
      const shared = await waitFor(
        'both instances to hold partitions',
        async () => {
          const now = await assignments();
          return now.size === 2 && [...now.values()].every((ps) => ps.length > 0) ? now : undefined;
        },
        60_000,
      );
      const all = [...shared.values()].flat().sort();
      expect(all).toEqual([0, 1, 2].flatMap((p) => [`${world.topics.artifacts}:${p}`, `${world.topics.runs}:${p}`]).sort());

      const wave1 = await world.produce('artifacts', artifacts(3_000, 'g1'));
      await world.produce(
        'runs',
        Array.from({ length: 300 }, (_, i) => encodeEvent('prefect.flow.upserted', { id: randomUUID(), name: `flow-${i}`, tags: ['group'], created: T(0), updated: T(i) })),
      );
      await Promise.all([world.caughtUp(a), world.caughtUp(b)]);
      expect(await world.tables()).toEqual(world.oracle());

      const [ma, mb] = await Promise.all([ingestCounts(a), ingestCounts(b)]);
      const topic = { topic: world.topics.artifacts };
      expect(count(ma, 'consumed')).toBeGreaterThan(0);
      expect(count(mb, 'consumed')).toBeGreaterThan(0);
      expect(count(ma, 'applied', topic) + count(mb, 'applied', topic)).toBe(wave1.length);

      // One instance stops while the other has a batch in flight: the group rebalances under
      // that batch. The survivor must give the batch up, rejoin, take every partition and go on.
      const target = wave1[0]!;
      const hold = await world.holdCheckpoints({ row: { topic: target.topic, partition: target.partition } });
      let survivor: AppProcess;
      let before: IngestCounts;
      let wave2: ProducedMessage[];
      try {
        wave2 = await world.produce('artifacts', artifacts(200, 'g2').map((m) => ({ ...m, key: target.message.key })));
        // Blocked for longer than the heartbeat interval (1 s): its next heartbeat reaches the coordinator.
        await hold.waitForBlockedBatch(1_500);
        const [ca, cb] = await Promise.all([ingestCounts(a), ingestCounts(b)]);
        // The blocked batch was counted as consumed by the instance that owns the partition.
        const owner = count(ca, 'consumed') - count(ma, 'consumed') === wave2.length ? a : b;
        survivor = owner;
        before = owner === a ? ma : mb;
        expect(count(owner === a ? cb : ca, 'consumed')).toBe(count(owner === a ? mb : ma, 'consumed'));
        expect(await (owner === a ? b : a).stop()).toBe(0);
        await waitFor('the group to rebalance', async () => ((await world.kafka.admin.describeGroups([world.groupId])).groups[0]?.state === 'PreparingRebalance' ? true : undefined));
      } finally {
        await hold.release();
      }
      await world.caughtUp(survivor, 30_000);
      expect(await world.tables()).toEqual(world.oracle());
      expect(count(await ingestCounts(survivor), 'applied', topic)).toBe(count(before, 'applied', topic) + wave2.length);
      const after = await waitFor('a stable group of one', async () => ((await assignments()).size === 1 ? assignments() : undefined), 30_000);
      expect([...after.values()].map((ps) => ps.length)).toEqual([6]);

      // A single instance (own group, own database) reading the same topics builds the same tables.
      const solo = await createTestDatabase('lifecycle_solo');
      try {
        const one = await world.start({ DATABASE_URL: solo.url, KAFKA_GROUP_ID: `${world.groupId}-solo` });
        await world.caughtUp(one);
        expect(await readTables(sqlOf(solo.dataSource))).toEqual(await world.tables());
        expect(await one.stop()).toBe(0);
      } finally {
        await solo.drop();
      }
    });
  });
});
