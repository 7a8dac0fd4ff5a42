// The only file that imports kafkajs (docs/style.md): swapping the client later costs one file.
import { Admin, Consumer, Kafka, KafkaConfig, PartitionMetadata, Partitioners, Producer } from 'kafkajs';
import { createTopicsSettled, kafkaClientConfig, kafkaErrorType, KafkaSecurity, PartitionedSender, partitionsOf, RELIABLE_PRODUCER, whileTopicsSettle } from '@app/contracts';

export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

export interface InboundMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, HeaderValue>;
  offset: string;
}

export interface OutboundMessage {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: Record<string, Buffer | string>;
}

export interface InboundBatch {
  topic: string;
  partition: number;
  messages: InboundMessage[];
}

/** What a batch handler may do with the consumer while it works. */
export interface BatchControl {
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked: stop working on the batch. */
  shouldContinue(): boolean;
  /** Marks everything up to and including `offset` as processed (for Kafka's committed offset, a lag hint). */
  resolve(offset: string): void;
  /** Moves the partition's fetch position; the rest of the batch must be dropped. */
  seek(offset: string): void;
}

/** The broker refused a message (or the record batch holding it) as larger than the topic's max.message.bytes. */
export class MessageTooLargeError extends Error {}

export interface PartitionOffsets {
  topic: string;
  partition: number;
  low: bigint;
  high: bigint;
}

export interface ConsumerHooks {
  onBatch(batch: InboundBatch, control: BatchControl): Promise<void>;
  onAssigned(assignment: Record<string, number[]>, seek: (topic: string, partition: number, offset: string) => void): Promise<void>;
  onCrash(error: Error): void;
  onRebalance(): void;
}

export interface KafkaAdapterOptions {
  clientId: string;
  brokers: string[];
  security: KafkaSecurity;
}

/** Heartbeat answers after which kafkajs must rejoin the group (its own isRebalancing, plus eviction). */
const REJOIN_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

function kafkaConfig(options: KafkaAdapterOptions): KafkaConfig {
  return kafkaClientConfig(options) as KafkaConfig;
}

/** One send per partition (PartitionedSender: kafkajs 2.2.4 can drop a send's messages when a leader fails). */
function partitionedSender(producer: Producer, admin: Admin): PartitionedSender<OutboundMessage, PartitionMetadata> {
  return new PartitionedSender(producer, partitionsOf(admin), Partitioners.DefaultPartitioner());
}

export class KafkaAdapter {
  private readonly kafka: Kafka;
  private admin?: Admin;
  private producer?: Producer;
  private sender?: PartitionedSender<OutboundMessage, PartitionMetadata>;
  private consumer?: Consumer;

  constructor(options: KafkaAdapterOptions) {
    this.kafka = new Kafka(kafkaConfig(options));
  }

  async connect(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.admin.describeCluster();
    this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, ...RELIABLE_PRODUCER });
    await this.producer.connect();
    this.sender = partitionedSender(this.producer, this.admin);
  }

  /**
   * Creates missing topics; existing topics are left as they are. Without a replication
   * factor: 3 on a cluster of 3 or more brokers, else 1. With 3 replicas or more, an
   * acks=all write needs 2 of them (min.insync.replicas), so one broker may be down.
   */
  async ensureTopics(topics: string[], partitions: number, replicationFactor?: number): Promise<void> {
    const admin = this.requireAdmin();
    const replicas = replicationFactor ?? ((await admin.describeCluster()).brokers.length >= 3 ? 3 : 1);
    const configEntries = replicas >= 3 ? [{ name: 'min.insync.replicas', value: '2' }] : [];
    await createTopicsSettled(admin, topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: replicas, configEntries })));
  }

  async partitionOffsets(topics: string[]): Promise<PartitionOffsets[]> {
    const admin = this.requireAdmin();
    const result: PartitionOffsets[] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        result.push({ topic, partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) });
      }
    }
    return result;
  }

  async produce(topic: string, messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.requireSender().send({ topic, acks: -1, messages });
    } catch (error) {
      const type = kafkaErrorType(error);
      if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') throw new MessageTooLargeError((error as Error).message);
      throw error;
    }
  }

  async startConsumer(groupId: string, topics: string[], hooks: ConsumerHooks, tuning: { maxBytes?: number; concurrency?: number } = {}): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
      maxBytes: tuning.maxBytes ?? 16 * 1024 * 1024,
      maxBytesPerPartition: Math.min(tuning.maxBytes ?? 16 * 1024 * 1024, 4 * 1024 * 1024),
      allowAutoTopicCreation: false,
      retry: { retries: 1_000_000, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      hooks.onRebalance();
      hooks
        .onAssigned(event.payload.memberAssignment, (topic, partition, offset) => consumer.seek({ topic, partition, offset }))
        .catch((error: Error) => hooks.onCrash(error));
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) hooks.onCrash(event.payload.error);
    });
    await consumer.connect();
    await whileTopicsSettle(() => consumer.subscribe({ topics, fromBeginning: true }));
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: tuning.concurrency ?? 1,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        // kafkajs rejoins a rebalancing group only after eachBatch returns: once a heartbeat
        // says so, the batch must be given up (not retried), or the member is evicted and stalls.
        let mustRejoin = false;
        await hooks.onBatch(
          {
            topic: batch.topic,
            partition: batch.partition,
            messages: batch.messages.map((m) => ({ key: m.key ?? null, value: m.value ?? null, headers: m.headers ?? {}, offset: m.offset })),
          },
          {
            heartbeat: async () => {
              try {
                await heartbeat();
              } catch (error) {
                if (REJOIN_ERRORS.has((error as { type?: string }).type ?? '')) mustRejoin = true;
                throw error;
              }
            },
            shouldContinue: () => !mustRejoin && isRunning() && !isStale(),
            resolve: resolveOffset,
            seek: (offset) => consumer.seek({ topic: batch.topic, partition: batch.partition, offset }),
          },
        );
      },
    });
  }

  /** Moves a partition's fetch position, between batches (its batch in flight, if any, goes on; the next fetch reads from `offset`). */
  seek(topic: string, partition: number, offset: string): void {
    this.consumer?.seek({ topic, partition, offset });
  }

  /** Forgets a consumer group that no longer has members (the rebuild's own, when done). */
  async deleteGroup(groupId: string): Promise<void> {
    await this.requireAdmin().deleteGroups([groupId]);
  }

  async disconnect(): Promise<void> {
    // The consumer first: its in-flight batch may still need the producer (dead letters).
    const { consumer, producer, admin } = this;
    this.consumer = this.producer = this.admin = this.sender = undefined;
    for (const client of [consumer, producer, admin]) {
      await client?.disconnect().catch(() => undefined);
    }
  }

  private requireSender(): PartitionedSender<OutboundMessage, PartitionMetadata> {
    if (!this.sender) throw new Error('Kafka producer is not connected');
    return this.sender;
  }

  private requireAdmin(): Admin {
    if (!this.admin) throw new Error('Kafka admin is not connected');
    return this.admin;
  }
}
