// The scripts' one door to kafkajs (docs/style.md), with the project's client configuration.
import { kafkaClientConfig, KafkaSecurity, PartitionedSender, partitionsOf, RELIABLE_PRODUCER } from '@app/contracts';
import { Admin, Consumer, Kafka, KafkaConfig, Message, PartitionMetadata, Partitioners, Producer } from 'kafkajs';
import { CliError, CliEnv } from './cli';

export type { Admin, Message } from 'kafkajs';

/** How long connecting may take before the CLI gives up with one line. */
export const CONNECT_TIMEOUT_MS = 5_000;

export function createKafka(env: { brokers: string[]; security: KafkaSecurity }, clientId: string): Kafka {
  const timing = { connectionTimeout: CONNECT_TIMEOUT_MS, retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 3_000 } };
  return new Kafka(kafkaClientConfig({ clientId, brokers: env.brokers, security: env.security, timing }) as KafkaConfig);
}

/** Connects a kafkajs client, failing with one line after CONNECT_TIMEOUT_MS (kafkajs would otherwise retry for long). */
export async function connect<T extends EventProducer | Producer | Consumer | Admin>(client: T, env: CliEnv): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(`cannot reach Kafka at ${env.brokers.join(',')}: no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
  });
  try {
    await Promise.race([
      client.connect().catch((error: Error) => {
        throw new CliError(`cannot reach Kafka at ${env.brokers.join(',')}: ${error.message}`);
      }),
      timeout,
    ]);
    return client;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A producer whose sends go one partition each (PartitionedSender: kafkajs 2.2.4 can drop a
 * send's messages when a leader fails), so that EventPublisher.send also knows each
 * partition's last offset (the consistency token).
 */
export class EventProducer {
  private readonly producer: Producer;
  private readonly admin: Admin;
  private readonly sender: PartitionedSender<Message, PartitionMetadata>;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, ...RELIABLE_PRODUCER });
    this.admin = kafka.admin();
    this.sender = new PartitionedSender(this.producer, partitionsOf(this.admin), Partitioners.DefaultPartitioner());
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
  }

  send(record: { topic: string; messages: Message[]; acks?: number }): Promise<unknown[]> {
    return this.sender.send(record);
  }

  async disconnect(): Promise<void> {
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
  }
}

export function createProducer(kafka: Kafka): EventProducer {
  return new EventProducer(kafka);
}

/** Fails with one line when a topic is missing (the broker would otherwise retry metadata requests for long). */
export async function requireTopics(admin: Admin, topics: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) throw new CliError(`no such topic: ${missing.join(', ')}`);
}
