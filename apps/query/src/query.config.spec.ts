import { ConfigError, loadQueryConfig } from './query.config';

describe('loadQueryConfig', () => {
  it('has the documented defaults', () => {
    expect(loadQueryConfig({})).toEqual({
      databaseUrl: 'postgres://postgres:postgres@127.0.0.1:5432/artifacts',
      port: 4200,
      workers: 1,
      defaultLimit: 200,
      authToken: undefined,
      logLevel: 'info',
      ingestUrl: 'http://127.0.0.1:4201',
      groupId: 'artifact-read-model',
      topics: ['prefect.artifacts', 'prefect.runs'],
      readAfterTimeoutMs: 5000,
      subscribeHeartbeatSeconds: 15,
      subscribeRetentionSeconds: 3600,
      readUrls: [],
      maxStalenessMs: 5000,
      parallelWorkers: 0,
    });
  });

  it('reads every variable', () => {
    const env = {
      DATABASE_URL: 'postgresql://u:p@db:6543/x',
      QUERY_PORT: '8080',
      QUERY_WORKERS: '2',
      API_DEFAULT_LIMIT: '50',
      API_AUTH_TOKEN: 's3cret',
      LOG_LEVEL: 'warn',
      INGEST_URL: 'http://ingest:4201',
      KAFKA_GROUP_ID: 'g',
      ARTIFACT_TOPIC: 'a',
      RUN_TOPIC: 'r',
      QUERY_READ_AFTER_TIMEOUT_MS: '250',
      QUERY_SUBSCRIBE_HEARTBEAT_SECONDS: '2',
      SUBSCRIBE_RETENTION_SECONDS: '60',
      DATABASE_READ_URLS: 'postgres://u:p@standby1:5433/x,postgres://u:p@standby2:5434/x',
      QUERY_MAX_STALENESS_MS: '1500',
      QUERY_PARALLEL_WORKERS: '2',
    };
    expect(loadQueryConfig(env)).toEqual({
      databaseUrl: 'postgresql://u:p@db:6543/x',
      port: 8080,
      workers: 2,
      defaultLimit: 50,
      authToken: 's3cret',
      logLevel: 'warn',
      ingestUrl: 'http://ingest:4201',
      groupId: 'g',
      topics: ['a', 'r'],
      readAfterTimeoutMs: 250,
      subscribeHeartbeatSeconds: 2,
      subscribeRetentionSeconds: 60,
      readUrls: ['postgres://u:p@standby1:5433/x', 'postgres://u:p@standby2:5434/x'],
      maxStalenessMs: 1500,
      parallelWorkers: 2,
    });
  });

  it.each([
    [{ QUERY_PORT: 'abc' }, 'QUERY_PORT must be an integer from 0 to 65535, got "abc"'],
    [{ QUERY_PARALLEL_WORKERS: '-1' }, 'QUERY_PARALLEL_WORKERS must be an integer from 0 to 64, got "-1"'],
    [{ QUERY_READ_AFTER_TIMEOUT_MS: '-1' }, 'QUERY_READ_AFTER_TIMEOUT_MS must be an integer from 0 to 600000, got "-1"'],
    [{ QUERY_PORT: '70000' }, 'QUERY_PORT must be an integer from 0 to 65535, got "70000"'],
    [{ QUERY_WORKERS: '0' }, 'QUERY_WORKERS must be an integer from 1 to 64, got "0"'],
    [{ QUERY_WORKERS: 'two' }, 'QUERY_WORKERS must be an integer from 1 to 64, got "two"'],
    [{ API_DEFAULT_LIMIT: '0' }, 'API_DEFAULT_LIMIT must be an integer from 1 to 9007199254740991, got "0"'],
    [{ API_DEFAULT_LIMIT: '2.5' }, 'API_DEFAULT_LIMIT must be an integer from 1 to 9007199254740991, got "2.5"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL is not a valid URL'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL must be a postgres:// URL, got mysql://...'],
    [{ INGEST_URL: 'nope' }, 'INGEST_URL is not a valid URL'],
    [{ INGEST_URL: 'ftp://x/' }, 'INGEST_URL must be an http(s):// URL, got ftp://...'],
  ])('refuses %j with one clear line', (env, message) => {
    expect(() => loadQueryConfig(env)).toThrow(new ConfigError(message));
  });
});
