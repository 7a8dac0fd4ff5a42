/** The query app's settings, read once from the environment at start (docs/operations.md). */
export interface QueryConfig {
  databaseUrl: string;
  port: number;
  /** Prefect's default and maximum page size (PREFECT_SERVER_API_DEFAULT_LIMIT). */
  defaultLimit: number;
  /** When set, every /api route but /api/health needs `Authorization: Bearer <token>`. */
  authToken?: string;
  logLevel: string;
  /** The ingest app's base URL, read by the web page's pipeline status (`GET /ui/pipeline-status`). */
  ingestUrl?: string;
}

export const QUERY_CONFIG = Symbol('QUERY_CONFIG');

export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadQueryConfig(env: NodeJS.ProcessEnv = process.env): QueryConfig {
  const databaseUrl = env.DATABASE_URL || 'postgres://postgres:postgres@127.0.0.1:5432/artifacts';
  let protocol: string;
  try {
    protocol = new URL(databaseUrl).protocol;
  } catch {
    throw new ConfigError('DATABASE_URL is not a valid URL');
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must be a postgres:// URL, got ${protocol}//...`);
  }
  const port = integer(env, 'QUERY_PORT', 4200, 0, 65535);
  const defaultLimit = integer(env, 'API_DEFAULT_LIMIT', 200, 1, Number.MAX_SAFE_INTEGER);
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const ingestUrl = env.INGEST_URL || 'http://127.0.0.1:4201';
  let ingestProtocol: string;
  try {
    ingestProtocol = new URL(ingestUrl).protocol;
  } catch {
    throw new ConfigError('INGEST_URL is not a valid URL');
  }
  if (ingestProtocol !== 'http:' && ingestProtocol !== 'https:') throw new ConfigError(`INGEST_URL must be an http(s):// URL, got ${ingestProtocol}//...`);
  return { databaseUrl, port, defaultLimit, authToken: env.API_AUTH_TOKEN || undefined, logLevel, ingestUrl };
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}
