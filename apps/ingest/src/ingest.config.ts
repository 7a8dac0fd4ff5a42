import { KafkaSecurity, parseKafkaSecurity } from '@app/contracts';
import { parseTestHooks, TestHooksConfig } from './test-hooks';

export type { KafkaSecurity };

export interface IngestConfig {
  databaseUrl: string;
  brokers: string[];
  artifactTopic: string;
  runTopic: string;
  groupId: string;
  topicPartitions: number;
  partitionConcurrency: number;
  port: number;
  logLevel: string;
  kafkaSecurity: KafkaSecurity;
  /** Fault injection for the reliability tests only (INGEST_TEST_*); undefined in production. */
  testHooks?: TestHooksConfig;
}

export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function text(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw.trim() !== raw) throw new ConfigError(`${name} must not have surrounding spaces, got "${raw}"`);
  return raw;
}

function databaseUrl(env: NodeJS.ProcessEnv): string {
  const raw = text(env, 'DATABASE_URL', 'postgres://postgres:postgres@127.0.0.1:5432/artifacts');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL is not a valid URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got "${url.protocol}//"`);
  }
  return raw;
}

function brokers(env: NodeJS.ProcessEnv): string[] {
  const list = text(env, 'KAFKA_BROKERS', '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  for (const broker of list) {
    if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError(`KAFKA_BROKERS must be a comma-separated host:port list, got "${broker}"`);
    }
  }
  if (list.length === 0) throw new ConfigError('KAFKA_BROKERS is empty');
  return list;
}

function kafkaSecurity(env: NodeJS.ProcessEnv): KafkaSecurity {
  try {
    return parseKafkaSecurity(env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** Parses the environment of docs/operations.md once, at start. */
export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const logLevel = text(env, 'LOG_LEVEL', 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const artifactTopic = text(env, 'ARTIFACT_TOPIC', 'prefect.artifacts');
  const runTopic = text(env, 'RUN_TOPIC', 'prefect.runs');
  if (artifactTopic === runTopic) throw new ConfigError('ARTIFACT_TOPIC and RUN_TOPIC must differ');
  let testHooks: TestHooksConfig | undefined;
  try {
    testHooks = parseTestHooks(env);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    databaseUrl: databaseUrl(env),
    brokers: brokers(env),
    artifactTopic,
    runTopic,
    groupId: text(env, 'KAFKA_GROUP_ID', 'artifact-read-model'),
    topicPartitions: int(env, 'KAFKA_TOPIC_PARTITIONS', 6, 1, 10_000),
    partitionConcurrency: int(env, 'INGEST_PARTITION_CONCURRENCY', 2, 1, 64),
    port: int(env, 'INGEST_PORT', 4201, 0, 65_535),
    logLevel,
    kafkaSecurity: kafkaSecurity(env),
    ...(testHooks ? { testHooks } : {}),
  };
}
