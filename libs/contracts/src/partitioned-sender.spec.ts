import { decodeConsistencyToken } from './consistency';
import { PartitionedSender, PartitionInfo, partitionsOf } from './partitioned-sender';
import type { EncodedMessage } from './encode';
import { EventPublisher } from './producer';
import { ID, T } from './testing/samples';

type Message = { key: string | null; value: string; partition?: number };
type Sent = { topic: string; acks?: number; messages: Message[] };

/** A producer that answers like a broker: each partition's batch gets the next offsets. */
class LogProducer {
  readonly sends: Sent[] = [];
  private readonly ends = new Map<number, number>();
  async send(record: { topic: string; acks?: number; messages: object[] }): Promise<unknown> {
    this.sends.push(record as Sent);
    const counts = new Map<number, number>();
    for (const m of record.messages as { partition?: number }[]) counts.set(m.partition ?? -1, (counts.get(m.partition ?? -1) ?? 0) + 1);
    return [...counts].map(([partition, count]) => {
      const base = this.ends.get(partition) ?? 0;
      this.ends.set(partition, base + count);
      return { topicName: record.topic, partition, errorCode: 0, baseOffset: String(base) };
    });
  }
}

const PARTITIONS: PartitionInfo[] = [0, 1, 2].map((partitionId) => ({ partitionId, leader: partitionId }));
// Partition by the key's first character, so the tests can say where each message goes.
const byFirstChar = ({ message, partitionMetadata }: { message: Message; partitionMetadata: PartitionInfo[] }) =>
  (message.key ?? 'a').charCodeAt(0) % partitionMetadata.length;

describe('PartitionedSender', () => {
  it('sends each partition in a send of its own, in the order given, and answers all their record metadata', async () => {
    const producer = new LogProducer();
    const sender = new PartitionedSender(producer, async () => PARTITIONS, byFirstChar);
    const messages: Message[] = ['a1', 'b1', 'a2', 'c1', 'b2', 'a3'].map((key) => ({ key, value: key }));
    const answer = await sender.send({ topic: 't', acks: -1, messages });
    expect(producer.sends).toHaveLength(3);
    for (const send of producer.sends) {
      expect(send).toMatchObject({ topic: 't', acks: -1 });
      expect(new Set(send.messages.map((m) => m.partition)).size).toBe(1);
    }
    const sentKeys = (partition: number) => producer.sends.find((s) => s.messages[0]!.partition === partition)!.messages.map((m) => m.key);
    expect(sentKeys('a'.charCodeAt(0) % 3)).toEqual(['a1', 'a2', 'a3']);
    expect(sentKeys('b'.charCodeAt(0) % 3)).toEqual(['b1', 'b2']);
    expect(sentKeys('c'.charCodeAt(0) % 3)).toEqual(['c1']);
    expect(answer).toHaveLength(3);
    expect(messages.every((m) => m.partition === undefined)).toBe(true);
  });

  it('asks for a topic\'s partitions once, and again after a failed answer', async () => {
    const asked: string[] = [];
    let fail = true;
    const describe = async (topic: string) => {
      asked.push(topic);
      if (fail) throw new Error('no metadata');
      return PARTITIONS;
    };
    const sender = new PartitionedSender(new LogProducer(), describe, byFirstChar);
    await expect(sender.send({ topic: 't', messages: [{ key: 'a', value: 'x' }] })).rejects.toThrow('no metadata');
    fail = false;
    await sender.send({ topic: 't', messages: [{ key: 'a', value: 'x' }] });
    await sender.send({ topic: 't', messages: [{ key: 'b', value: 'x' }] });
    expect(asked).toEqual(['t', 't']);
  });

  it('refuses a topic without partitions instead of sending nowhere', async () => {
    const producer = new LogProducer();
    const sender = new PartitionedSender(producer, async () => [], byFirstChar);
    await expect(sender.send({ topic: 'gone', messages: [{ key: 'a', value: 'x' }] })).rejects.toThrow('topic gone has no partitions');
    expect(producer.sends).toHaveLength(0);
  });

  it('lets EventPublisher build exact consistency tokens over several partitions', async () => {
    const producer = new LogProducer();
    const sender = new PartitionedSender<EncodedMessage>(producer, async () => PARTITIONS, ({ message }) => (String(message.key) === 'x' ? 0 : 2));
    const publisher = new EventPublisher(sender);
    const built = ['x', 'y', 'x', 'y', 'y'].map((key, i) => publisher.build.artifactCreated({ id: ID.replace(/.$/, String(i)), key, created: T }));
    const token = await publisher.send(built);
    expect(decodeConsistencyToken(token!)).toEqual(new Map([['prefect.artifacts', new Map([[0, 1n], [2, 2n]])]]));
  });

  test('partitionsOf asks the admin for one topic and answers its partitions, or none for a topic it does not know', async () => {
    const asked: string[][] = [];
    const admin = {
      fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
        asked.push(topics);
        return { topics: topics[0] === 'known' ? [{ partitions: [{ partitionId: 0, leader: 1 }, { partitionId: 1, leader: 2 }] }] : [] };
      },
    };
    const describe = partitionsOf(admin);
    expect(await describe('known')).toEqual([{ partitionId: 0, leader: 1 }, { partitionId: 1, leader: 2 }]);
    expect(await describe('other')).toEqual([]);
    expect(asked).toEqual([['known'], ['other']]);
  });
});
