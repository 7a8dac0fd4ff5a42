import { Kafka, logLevel, Partitioners, Producer, Admin } from 'kafkajs';

export function requireBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run the tests through jest (its globalSetup starts Kafka)');
  return brokers.split(',');
}

export interface TestKafka {
  producer: Producer;
  admin: Admin;
  kafka: Kafka;
  send(topic: string, messages: { key: string | Buffer | null; value: string | Buffer | null; headers?: Record<string, string | Buffer> }[]): Promise<void>;
  close(): Promise<void>;
}

export async function connectKafka(): Promise<TestKafka> {
  const kafka = new Kafka({ clientId: `jest-${process.pid}`, brokers: requireBrokers(), logLevel: logLevel.NOTHING, connectionTimeout: 3000 });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const admin = kafka.admin();
  await Promise.all([producer.connect(), admin.connect()]);
  return {
    kafka,
    producer,
    admin,
    async send(topic, messages) {
      if (messages.length > 0) await producer.send({ topic, acks: -1, messages });
    },
    async close() {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

/** Reads every message currently in `topic` (from the beginning up to the high-water marks). */
export async function readAll(kafka: Kafka, admin: Admin, topic: string): Promise<{ partition: number; offset: string; key: Buffer | null; value: Buffer | null; headers: Record<string, string> }[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const wanted = new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  const total = offsets.reduce((sum, o) => sum + Number(BigInt(o.high) - BigInt(o.low)), 0);
  const out: Awaited<ReturnType<typeof readAll>> = [];
  if (total === 0) return out;
  const consumer = kafka.consumer({ groupId: `jest-read-${process.pid}-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic}: got ${out.length} of ${total} messages`)), 30_000);
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          if (BigInt(message.offset) >= (wanted.get(partition) ?? 0n)) return;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[v.length - 1] : v);
          out.push({ partition, offset: message.offset, key: message.key, value: message.value, headers });
          if (out.length >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}
