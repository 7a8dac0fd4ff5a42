// The scripts' one door to kafkajs (docs/style.md), with the project's client configuration.
import { kafkaClientConfig, KafkaSecurity, RELIABLE_PRODUCER, trackPartitions } from '@app/contracts';
import { Admin, Consumer, Kafka, KafkaConfig, Partitioners, Producer } from 'kafkajs';
import { CliError, CliEnv } from './cli';

export type { Admin, Message } from 'kafkajs';

/** How long connecting may take before the CLI gives up with one line. */
export const CONNECT_TIMEOUT_MS = 5_000;

export function createKafka(env: { brokers: string[]; security: KafkaSecurity }, clientId: string): Kafka {
  const timing = { connectionTimeout: CONNECT_TIMEOUT_MS, retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 3_000 } };
  return new Kafka(kafkaClientConfig({ clientId, brokers: env.brokers, security: env.security, timing }) as KafkaConfig);
}

/** Connects a kafkajs client, failing with one line after CONNECT_TIMEOUT_MS (kafkajs would otherwise retry for long). */
export async function connect<T extends Producer | Consumer | Admin>(client: T, env: CliEnv): Promise<T> {
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

export function createProducer(kafka: Kafka): Producer {
  // Tracked, so that EventPublisher.send knows each partition's last offset (the consistency token).
  return kafka.producer({ createPartitioner: trackPartitions(Partitioners.DefaultPartitioner), allowAutoTopicCreation: false, ...RELIABLE_PRODUCER });
}

/** Fails with one line when a topic is missing (the broker would otherwise retry metadata requests for long). */
export async function requireTopics(admin: Admin, topics: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length > 0) throw new CliError(`no such topic: ${missing.join(', ')}`);
}
