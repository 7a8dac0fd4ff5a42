import { ConfigError, KafkaSecurity, readEnvironment, readKafkaSecurity } from '@app/contracts';
import { parseTestHooks, TestHooksConfig } from './test-hooks';

export type { KafkaSecurity };

export interface IngestConfig {
  databaseUrl: string;
  brokers: string[];
  artifactTopic: string;
  runTopic: string;
  groupId: string;
  topicPartitions: number;
  /** undefined: 3 on a cluster of 3 or more brokers, else 1 (KafkaAdapter.ensureTopics). */
  replicationFactor?: number;
  partitionConcurrency: number;
  port: number;
  logLevel: string;
  kafkaSecurity: KafkaSecurity;
  /** Collection changes older than this are pruned (SUBSCRIBE_RETENTION_SECONDS; default 3600). */
  changeRetentionSeconds?: number;
  /** Fault injection for the reliability tests only (INGEST_TEST_*); undefined in production. */
  testHooks?: TestHooksConfig;
}

export { ConfigError };

/** Parses the environment of docs/operations.md once, at start. */
export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const v = readEnvironment(env, [
    'LOG_LEVEL',
    'ARTIFACT_TOPIC',
    'RUN_TOPIC',
    'DATABASE_URL',
    'KAFKA_BROKERS',
    'KAFKA_GROUP_ID',
    'KAFKA_TOPIC_PARTITIONS',
    'KAFKA_REPLICATION_FACTOR',
    'INGEST_PARTITION_CONCURRENCY',
    'INGEST_PORT',
    'SUBSCRIBE_RETENTION_SECONDS',
  ]);
  if (v.ARTIFACT_TOPIC === v.RUN_TOPIC) throw new ConfigError('ARTIFACT_TOPIC and RUN_TOPIC must differ');
  let testHooks: TestHooksConfig | undefined;
  try {
    testHooks = parseTestHooks(env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    databaseUrl: v.DATABASE_URL,
    brokers: v.KAFKA_BROKERS,
    artifactTopic: v.ARTIFACT_TOPIC,
    runTopic: v.RUN_TOPIC,
    groupId: v.KAFKA_GROUP_ID,
    topicPartitions: v.KAFKA_TOPIC_PARTITIONS,
    ...(v.KAFKA_REPLICATION_FACTOR ? { replicationFactor: v.KAFKA_REPLICATION_FACTOR } : {}),
    partitionConcurrency: v.INGEST_PARTITION_CONCURRENCY,
    port: v.INGEST_PORT,
    logLevel: v.LOG_LEVEL,
    kafkaSecurity: readKafkaSecurity(env),
    changeRetentionSeconds: v.SUBSCRIBE_RETENTION_SECONDS,
    ...(testHooks ? { testHooks } : {}),
  };
}
