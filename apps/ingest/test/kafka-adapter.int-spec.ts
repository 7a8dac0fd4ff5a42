import { randomUUID } from 'node:crypto';
import { connectKafka, requireBrokers, TestKafka } from '../../../test/support/kafka';
import { KafkaAdapter } from '../src/kafka/kafka.adapter';

// Instances of the ingest app started together (a deployment's replicas) create the same
// topics at once. kafkajs's wait for the new topics' leaders gave up on the first
// UNKNOWN_TOPIC_OR_PARTITION a broker answered meanwhile, and the instance exited at start-up.

describe('KafkaAdapter.ensureTopics', () => {
  let kafka: TestKafka;
  const adapters: KafkaAdapter[] = [];

  beforeAll(async () => {
    kafka = await connectKafka();
  });

  afterAll(async () => {
    await Promise.all(adapters.map((a) => a.disconnect()));
    await kafka.close();
  });

  async function connected(): Promise<KafkaAdapter> {
    const adapter = new KafkaAdapter({ clientId: 'ensure-topics-spec', brokers: requireBrokers(), security: { ssl: false } });
    adapters.push(adapter);
    await adapter.connect();
    return adapter;
  }

  test('instances creating the same new topics at once all start, and every partition has a leader', async () => {
    const instances = await Promise.all([connected(), connected(), connected()]);
    for (let round = 0; round < 5; round++) {
      const topics = ['artifacts', 'runs', 'artifacts.dlq', 'runs.dlq'].map((name) => `ensure-${randomUUID()}-${name}`);
      const outcomes = await Promise.allSettled(instances.map((adapter) => adapter.ensureTopics(topics, 6)));
      expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'started'))).toEqual(['started', 'started', 'started']);
      const { topics: described } = await kafka.admin.fetchTopicMetadata({ topics });
      expect(described.map((t) => t.partitions.filter((p) => p.leader >= 0).length)).toEqual([6, 6, 6, 6]);
    }
  });
});
