import { notePartition } from './consistency';

// kafkajs 2.2.4 can acknowledge a send it did not complete (tulios/kafkajs#1303, open). One
// send spanning partitions led by several brokers becomes one produce request per broker;
// when a leader fails, the retry refreshes the metadata and sends again only to brokers that
// have not answered yet, so the failed leader's partitions that moved to a broker which had
// already answered are never written, and the send resolves. A send holding one partition's
// messages cannot fall into this: its retry goes to whichever broker leads that partition now.

/** A topic's partition as kafkajs describes it (`PartitionMetadata`, structurally). */
export interface PartitionInfo {
  partitionId: number;
  leader: number;
}

/** What this sender sends: a kafkajs message has this shape. */
export interface PartitionableMessage {
  key?: Buffer | string | null;
  partition?: number;
}

/** A kafkajs partitioner (`Partitioners.DefaultPartitioner()`), structurally. */
export type Partitioner<M, P extends PartitionInfo = PartitionInfo> = (args: { topic: string; partitionMetadata: P[]; message: M }) => number;

interface SendRecord<M> {
  topic: string;
  messages: M[];
  acks?: number;
}

/** The part of a kafkajs `Admin` that `partitionsOf` asks, structurally. */
export interface TopicMetadataSource<P extends PartitionInfo> {
  fetchTopicMetadata(request: { topics: string[] }): Promise<{ topics: { partitions: P[] }[] }>;
}

/** A topic's partitions, as a PartitionedSender asks for them: `new PartitionedSender(producer, partitionsOf(admin), ...)`. */
export function partitionsOf<P extends PartitionInfo>(admin: TopicMetadataSource<P>): (topic: string) => Promise<P[]> {
  return async (topic) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [];
}

/** kafkajs's own metadata refresh interval (`metadataMaxAge`): partitions added to a topic are seen within it. */
const METADATA_MAX_AGE_MS = 300_000;

/**
 * Wraps a kafkajs producer's `send` so that each partition's messages go in a send of
 * their own (concurrently, each partition's in order). Answers the sends' record
 * metadata together, as one kafkajs send would, so EventPublisher still builds exact
 * consistency tokens:
 *
 *     new PartitionedSender(producer, partitionsOf(admin), Partitioners.DefaultPartitioner())
 */
export class PartitionedSender<M extends PartitionableMessage, P extends PartitionInfo = PartitionInfo> {
  private readonly partitions = new Map<string, { at: number; metadata: Promise<P[]> }>();

  constructor(
    private readonly producer: { send(record: SendRecord<M>): Promise<unknown> },
    private readonly describe: (topic: string) => Promise<P[]>,
    private readonly partitioner: Partitioner<M, P>,
  ) {}

  async send(record: SendRecord<M>): Promise<unknown[]> {
    const partitionMetadata = await this.metadata(record.topic);
    const groups = new Map<number, M[]>();
    for (const message of record.messages) {
      const partition = this.partitioner({ topic: record.topic, partitionMetadata, message });
      notePartition(message, partition);
      const group = groups.get(partition);
      if (group) group.push({ ...message, partition });
      else groups.set(partition, [{ ...message, partition }]);
    }
    const answers = await Promise.all([...groups.values()].map((messages) => this.producer.send({ ...record, messages })));
    return answers.flatMap((answer) => (Array.isArray(answer) ? (answer as unknown[]) : []));
  }

  private metadata(topic: string): Promise<P[]> {
    const known = this.partitions.get(topic);
    if (known && Date.now() - known.at < METADATA_MAX_AGE_MS) return known.metadata;
    const metadata = this.describe(topic).then((partitions) => {
      if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
      return partitions;
    });
    metadata.catch(() => this.partitions.delete(topic));
    this.partitions.set(topic, { at: Date.now(), metadata });
    return metadata;
  }
}
