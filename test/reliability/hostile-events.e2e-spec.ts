import { decodeMessage, dlqTopic } from '@app/contracts';
import { EXPECT_HEADER, hostileMessages, MB } from './support/hostile';
import { report } from './support/report';
import { Workload, WorkloadMessage } from './support/workload';
import { countTotal, World } from './support/world';

// Issue #6, hostile events: random bytes, truncated JSON, 10 MB values, deep
// nesting, a wrong type in every field of every event type and of the envelope,
// wrong topics, and events that decode but that PostgreSQL itself refuses (a name
// too long for its btree index). Each must be dead-lettered with a reason; the
// consumer must neither crash nor stall: the valid events after them are applied.
//
// The source topics accept 16 MB messages (topic max.message.bytes) so the 10 MB
// values really travel; the .dlq topics keep the broker default (1 MB), so their
// dead letters are sent with the value cut (header dlq-truncated).

jest.setTimeout(240_000);

describe('reliability: hostile events', () => {
  let world: World;

  beforeAll(async () => {
    world = await World.create('hostile', { topicConfig: [{ name: 'max.message.bytes', value: String(16 * MB) }] });
  });

  afterAll(async () => {
    await world?.close();
  });

  test('the hostile set keys every message that still decodes as the contract says: one Kafka key per entity', () => {
    // Otherwise two events of one artifact could race across partitions, which the
    // contract rules out and the oracle (partition by partition) cannot predict.
    const keys = new Map<string, Set<string>>();
    for (const h of hostileMessages()) {
      const decoded = decodeMessage(h.message, h.stream);
      if (!decoded.ok) continue;
      const entity = `${h.stream}:${(decoded.event.data as { id: string }).id}`;
      keys.set(entity, new Set([...(keys.get(entity) ?? []), String(h.message.key)]));
    }
    expect([...keys].filter(([, k]) => k.size > 1).map(([entity]) => entity)).toEqual([]);
  });

  test('every hostile message is dead-lettered with a reason; the consumer neither crashes nor stalls; the events after them are applied', async () => {
    const workload = new Workload(66);
    const hostile = hostileMessages();
    const ingest = await world.startIngest();
    await world.send(workload.take(1000));
    // One message per send: a 10 MB message must not share a request with others.
    for (const h of hostile) await world.send([{ stream: h.stream, message: h.message } satisfies WorkloadMessage]);
    const valid: WorkloadMessage[] = workload.take(3000);
    await world.send(valid);
    await world.waitDrained(120_000);
    expect(ingest.child.exitCode).toBeNull();
    expect((await fetch(`${ingest.url}/health`)).status).toBe(200);

    const v = await world.verify({ exclude: (headers) => headers[EXPECT_HEADER] !== undefined });
    // Dead letters over 1 MB were cut to 64 KB, so the .dlq topics hold nothing large.
    const dlq = [...(await world.readTopic(dlqTopic(world.topics.artifacts))), ...(await world.readTopic(dlqTopic(world.topics.runs)))];
    const expectedDead = hostile.filter((h) => h.message.headers[EXPECT_HEADER] !== undefined || !decodeMessage(h.message, h.stream).ok);
    const reasons: Record<string, number> = {};
    for (const m of dlq) reasons[m.headers['dlq-reason'] ?? 'none'] = (reasons[m.headers['dlq-reason'] ?? 'none'] ?? 0) + 1;
    const truncated = dlq.filter((m) => m.headers['dlq-truncated']).length;
    const deadMetric = await countTotal(ingest, 'dead_lettered');
    report(
      'hostile events',
      { hostile: hostile.length, deadLettered: dlq.length, truncatedDeadLetters: truncated, events: v.messages, rows: v.rows, mismatches: v.mismatches },
      Object.entries(reasons).map(([reason, n]) => `${reason}: ${n}`),
    );

    // Every hostile message that does not decode, and each one PostgreSQL refuses, is in a .dlq once, with its reason and source.
    const sources = new Set(dlq.map((m) => `${m.headers['dlq-source-topic']}:${m.headers['dlq-source-partition']}:${m.headers['dlq-source-offset']}`));
    expect(sources.size).toBe(dlq.length);
    expect(dlq).toHaveLength(expectedDead.length);
    expect(v.poison + hostile.filter((h) => h.message.headers[EXPECT_HEADER]).length).toBe(expectedDead.length);
    for (const m of dlq) {
      expect(m.headers['dlq-reason']).toMatch(/^(invalid_json|not_cloudevent|unknown_type|invalid_payload|wrong_topic|rejected_by_database)$/);
      expect(m.headers['dlq-source-offset']).toMatch(/^\d+$/);
      expect(m.headers['dlq-error']).toBeTruthy();
    }
    expect(dlq.filter((m) => m.headers[EXPECT_HEADER] === 'rejected_by_database').map((m) => m.headers['dlq-reason'])).toEqual(['rejected_by_database', 'rejected_by_database', 'rejected_by_database']);
    expect(truncated).toBe(2);
    expect(v.deadLettered).toBe(dlq.length);
    expect(deadMetric).toBe(dlq.length);

    // The valid events, before and after the hostile ones, are all applied: nothing stalled.
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);
    expect(v.appliedMessages).toBe(v.messages);
  });
});
