import { z } from 'zod';
import { KafkaSecurity, KafkaSecurityError, parseKafkaSecurity } from './kafka-security';

// The environment of docs/operations.md, one zod schema per variable, shared by both
// apps and the scripts: the same name, default, validation and wording everywhere.
// Each caller picks the variables it reads; the first malformed one is reported as
// one line that names it (never a secret's value).

/** A malformed variable; `message` is the one line the process prints. */
export class ConfigError extends Error {}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const raw = z.string().optional();

function fail(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

/** Unset or empty means the default; surrounding spaces are refused (they are never meant). */
function text(name: string, fallback: string) {
  return raw.transform((value, ctx) => {
    if (value === undefined || value === '') return fallback;
    if (value.trim() !== value) return fail(ctx, `${name} must not have surrounding spaces, got "${value}"`);
    return value;
  });
}

function integer(name: string, fallback: number, min: number, max: number) {
  return raw.transform((value, ctx) => {
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) return fail(ctx, `${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  });
}

/** Unset or empty: undefined (the caller decides from what it finds, e.g. the broker count). */
function optionalInteger(name: string, min: number, max: number) {
  return raw.transform((value, ctx) => {
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) return fail(ctx, `${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  });
}

// libpq's multi-host form (h1:5432,h2:5432) is no WHATWG URL: check it with its first host.
const firstHostOnly = (value: string): string => value.replace(/^(postgres(?:ql)?:\/\/(?:[^@/?]*@)?)([^/?,]*),[^/?]*/, '$1$2');

function url(name: string, fallback: string, protocols: string[], expected: string) {
  return text(name, fallback).transform((value, ctx) => {
    let protocol: string;
    try {
      protocol = new URL(firstHostOnly(value)).protocol;
    } catch {
      return fail(ctx, `${name} is not a valid URL`);
    }
    if (!protocols.includes(protocol)) return fail(ctx, `${name} must be ${expected} URL, got ${protocol}//...`);
    return value;
  });
}

const brokers = text('KAFKA_BROKERS', '127.0.0.1:9092').transform((value, ctx) => {
  const list = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  for (const broker of list) {
    if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(broker)) return fail(ctx, `KAFKA_BROKERS must be a comma-separated host:port list, got "${broker}"`);
  }
  if (list.length === 0) return fail(ctx, 'KAFKA_BROKERS is empty');
  return list;
});

const readUrls = raw.transform((value, ctx) => {
  if (value === undefined || value.trim() === '') return [];
  const list = value.split(',').map((u) => u.trim());
  for (const item of list) {
    let protocol: string;
    try {
      protocol = new URL(item).protocol;
    } catch {
      return fail(ctx, 'DATABASE_READ_URLS must be a comma-separated list of postgres:// URLs, one is not a valid URL');
    }
    if (!['postgres:', 'postgresql:'].includes(protocol)) return fail(ctx, `DATABASE_READ_URLS must list postgres:// URLs, got ${protocol}//...`);
  }
  return list;
});

const logLevel = text('LOG_LEVEL', 'info').transform((value, ctx) => {
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) return fail(ctx, `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  return level;
});

/** Every variable the apps and the scripts read, but the Kafka security ones (kafka-security.ts) and INGEST_TEST_*. */
export const ENVIRONMENT = {
  DATABASE_URL: url('DATABASE_URL', 'postgres://postgres:postgres@127.0.0.1:5432/artifacts', ['postgres:', 'postgresql:'], 'a postgres://'),
  /** Hot standbys the query app reads from (comma-separated); empty: everything from DATABASE_URL. */
  DATABASE_READ_URLS: readUrls,
  KAFKA_BROKERS: brokers,
  ARTIFACT_TOPIC: text('ARTIFACT_TOPIC', 'prefect.artifacts'),
  RUN_TOPIC: text('RUN_TOPIC', 'prefect.runs'),
  KAFKA_GROUP_ID: text('KAFKA_GROUP_ID', 'artifact-read-model'),
  KAFKA_TOPIC_PARTITIONS: integer('KAFKA_TOPIC_PARTITIONS', 6, 1, 10_000),
  /** Replicas of the topics the ingest app creates; unset: 3 on a cluster of 3 or more brokers, else 1. */
  KAFKA_REPLICATION_FACTOR: optionalInteger('KAFKA_REPLICATION_FACTOR', 1, 32),
  INGEST_PARTITION_CONCURRENCY: integer('INGEST_PARTITION_CONCURRENCY', 2, 1, 64),
  INGEST_PORT: integer('INGEST_PORT', 4201, 0, 65_535),
  QUERY_PORT: integer('QUERY_PORT', 4200, 0, 65_535),
  /** How long a query carrying X-Consistency-Token waits for the read model before its 504. */
  QUERY_READ_AFTER_TIMEOUT_MS: integer('QUERY_READ_AFTER_TIMEOUT_MS', 5000, 0, 600_000),
  /** Seconds between heartbeat comments on an open subscription stream. */
  QUERY_SUBSCRIBE_HEARTBEAT_SECONDS: integer('QUERY_SUBSCRIBE_HEARTBEAT_SECONDS', 15, 1, 3600),
  /** How long collection changes are kept for subscriptions to resume from (the ingest app prunes older ones). */
  SUBSCRIBE_RETENTION_SECONDS: integer('SUBSCRIBE_RETENTION_SECONDS', 3600, 1, 30 * 86_400),
  /** Query processes sharing QUERY_PORT (node:cluster); 1 runs no cluster at all. */
  QUERY_WORKERS: integer('QUERY_WORKERS', 1, 1, 64),
  /** A standby whose replay trails by more than this is not read from until it catches up. */
  QUERY_MAX_STALENESS_MS: integer('QUERY_MAX_STALENESS_MS', 5000, 0, 86_400_000),
  /** PostgreSQL parallel workers per query statement (max_parallel_workers_per_gather of the query app's sessions). */
  QUERY_PARALLEL_WORKERS: integer('QUERY_PARALLEL_WORKERS', 0, 0, 64),
  API_DEFAULT_LIMIT: integer('API_DEFAULT_LIMIT', 200, 1, Number.MAX_SAFE_INTEGER),
  // A secret: taken as given, never echoed in an error.
  API_AUTH_TOKEN: raw.transform((value) => value || undefined),
  LOG_LEVEL: logLevel,
  /** The ingest app's base URL, without trailing slashes. */
  INGEST_URL: url('INGEST_URL', 'http://127.0.0.1:4201', ['http:', 'https:'], 'an http(s)://').transform((value) => value.replace(/\/+$/, '')),
  /** The query app's base URL, without trailing slashes (`events publish --wait`). */
  QUERY_URL: url('QUERY_URL', 'http://127.0.0.1:4200', ['http:', 'https:'], 'an http(s)://').transform((value) => value.replace(/\/+$/, '')),
};

type Variables = typeof ENVIRONMENT;
export type EnvironmentValues<K extends keyof Variables> = { [P in K]: z.output<Variables[P]> };

/** Reads the named variables; throws ConfigError naming the first malformed one. */
export function readEnvironment<K extends keyof Variables>(env: NodeJS.ProcessEnv, names: readonly K[]): EnvironmentValues<K> {
  const schema = z.object(Object.fromEntries(names.map((name) => [name, ENVIRONMENT[name]])));
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(result.error.issues[0]?.message ?? 'invalid environment');
  return result.data as EnvironmentValues<K>;
}

/** KAFKA_SSL* and KAFKA_SASL_* (kafka-security.ts), a malformed one as a ConfigError. */
export function readKafkaSecurity(env: NodeJS.ProcessEnv): KafkaSecurity {
  try {
    return parseKafkaSecurity(env);
  } catch (error) {
    if (error instanceof KafkaSecurityError) throw new ConfigError(error.message);
    throw error;
  }
}
