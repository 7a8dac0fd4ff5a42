import { ConfigError, readEnvironment } from '@app/contracts';

/** The query app's settings, read once from the environment at start (docs/operations.md). */
export interface QueryConfig {
  databaseUrl: string;
  /** Hot standbys to read from (DATABASE_READ_URLS); none: every read goes to databaseUrl. */
  readUrls?: string[];
  /** A standby trailing by more than this is skipped (QUERY_MAX_STALENESS_MS, default 5000). */
  maxStalenessMs?: number;
  /** PostgreSQL parallel workers per statement (QUERY_PARALLEL_WORKERS, default 0). */
  parallelWorkers?: number;
  port: number;
  /** Query processes on `port` (QUERY_WORKERS): above 1, a cluster primary forks them. */
  workers?: number;
  /** Prefect's default and maximum page size (PREFECT_SERVER_API_DEFAULT_LIMIT). */
  defaultLimit: number;
  /** When set, every /api route but /api/health needs `Authorization: Bearer <token>`. */
  authToken?: string;
  logLevel: string;
  /** The ingest app's base URL, read by the web page's pipeline status (`GET /ui/pipeline-status`). */
  ingestUrl?: string;
  /** The ingest app's consumer group and topics: whose checkpoints a consistency token is compared with (default as docs/operations.md). */
  groupId?: string;
  topics?: string[];
  /** How long a request carrying X-Consistency-Token waits before answering 504 (default 5000). */
  readAfterTimeoutMs?: number;
  /** Subscriptions: seconds between heartbeats, and how long changes are kept for resuming (default 15 and 3600). */
  subscribeHeartbeatSeconds?: number;
  subscribeRetentionSeconds?: number;
}

export const QUERY_CONFIG = Symbol('QUERY_CONFIG');

export { ConfigError };

export function loadQueryConfig(env: NodeJS.ProcessEnv = process.env): QueryConfig {
  const v = readEnvironment(env, ['DATABASE_URL', 'QUERY_PORT', 'QUERY_WORKERS', 'API_DEFAULT_LIMIT', 'LOG_LEVEL', 'INGEST_URL', 'API_AUTH_TOKEN', 'KAFKA_GROUP_ID', 'ARTIFACT_TOPIC', 'RUN_TOPIC', 'QUERY_READ_AFTER_TIMEOUT_MS', 'QUERY_SUBSCRIBE_HEARTBEAT_SECONDS', 'SUBSCRIBE_RETENTION_SECONDS', 'DATABASE_READ_URLS', 'QUERY_MAX_STALENESS_MS', 'QUERY_PARALLEL_WORKERS']);
  return {
    databaseUrl: v.DATABASE_URL,
    readUrls: v.DATABASE_READ_URLS,
    maxStalenessMs: v.QUERY_MAX_STALENESS_MS,
    parallelWorkers: v.QUERY_PARALLEL_WORKERS,
    port: v.QUERY_PORT,
    workers: v.QUERY_WORKERS,
    defaultLimit: v.API_DEFAULT_LIMIT,
    authToken: v.API_AUTH_TOKEN,
    logLevel: v.LOG_LEVEL,
    ingestUrl: v.INGEST_URL,
    groupId: v.KAFKA_GROUP_ID,
    topics: [v.ARTIFACT_TOPIC, v.RUN_TOPIC],
    readAfterTimeoutMs: v.QUERY_READ_AFTER_TIMEOUT_MS,
    subscribeHeartbeatSeconds: v.QUERY_SUBSCRIBE_HEARTBEAT_SECONDS,
    subscribeRetentionSeconds: v.SUBSCRIBE_RETENTION_SECONDS,
  };
}
