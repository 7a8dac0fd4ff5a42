import { ConfigError, readEnvironment } from './environment';

describe('readEnvironment', () => {
  it('gives the documented defaults for unset and empty variables', () => {
    const defaults = readEnvironment({ KAFKA_BROKERS: '', LOG_LEVEL: '' }, ['DATABASE_URL', 'KAFKA_BROKERS', 'KAFKA_TOPIC_PARTITIONS', 'LOG_LEVEL', 'INGEST_URL', 'API_AUTH_TOKEN']);
    expect(defaults).toEqual({
      DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:5432/artifacts',
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      KAFKA_TOPIC_PARTITIONS: 6,
      LOG_LEVEL: 'info',
      INGEST_URL: 'http://127.0.0.1:4201',
      API_AUTH_TOKEN: undefined,
    });
  });

  it('reads only the variables asked for', () => {
    expect(readEnvironment({ QUERY_PORT: 'abc', RUN_TOPIC: 'r' }, ['RUN_TOPIC'])).toEqual({ RUN_TOPIC: 'r' });
  });

  it.each([
    [{ KAFKA_BROKERS: 'localhost' }, 'KAFKA_BROKERS must be a comma-separated host:port list, got "localhost"'],
    [{ KAFKA_BROKERS: ' , ' }, 'KAFKA_BROKERS must not have surrounding spaces, got " , "'],
    [{ KAFKA_BROKERS: ',' }, 'KAFKA_BROKERS is empty'],
    [{ ARTIFACT_TOPIC: ' a' }, 'ARTIFACT_TOPIC must not have surrounding spaces, got " a"'],
    [{ KAFKA_TOPIC_PARTITIONS: '0' }, 'KAFKA_TOPIC_PARTITIONS must be an integer from 1 to 10000, got "0"'],
    [{ KAFKA_REPLICATION_FACTOR: '0' }, 'KAFKA_REPLICATION_FACTOR must be an integer from 1 to 32, got "0"'],
    [{ DATABASE_READ_URLS: 'postgres://a/db,http://b/db' }, 'DATABASE_READ_URLS must list postgres:// URLs, got http://...'],
    [{ QUERY_MAX_STALENESS_MS: '-1' }, 'QUERY_MAX_STALENESS_MS must be an integer from 0 to 86400000, got "-1"'],
    [{ LOG_LEVEL: 'LOUD' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ INGEST_URL: 'ftp://x/' }, 'INGEST_URL must be an http(s):// URL, got ftp://...'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    const all = ['KAFKA_BROKERS', 'ARTIFACT_TOPIC', 'KAFKA_TOPIC_PARTITIONS', 'KAFKA_REPLICATION_FACTOR', 'DATABASE_READ_URLS', 'QUERY_MAX_STALENESS_MS', 'LOG_LEVEL', 'INGEST_URL'] as const;
    expect(() => readEnvironment(env, all)).toThrow(new ConfigError(message));
  });

  it('leaves the replication factor to the broker count and reads the standby list', () => {
    expect(readEnvironment({ DATABASE_READ_URLS: 'postgres://u:p@a:5433/db, postgres://u:p@b:5434/db' }, ['KAFKA_REPLICATION_FACTOR', 'DATABASE_READ_URLS', 'QUERY_MAX_STALENESS_MS'])).toEqual({
      KAFKA_REPLICATION_FACTOR: undefined,
      DATABASE_READ_URLS: ['postgres://u:p@a:5433/db', 'postgres://u:p@b:5434/db'],
      QUERY_MAX_STALENESS_MS: 5000,
    });
    expect(readEnvironment({ KAFKA_REPLICATION_FACTOR: '3', DATABASE_READ_URLS: '' }, ['KAFKA_REPLICATION_FACTOR', 'DATABASE_READ_URLS'])).toEqual({ KAFKA_REPLICATION_FACTOR: 3, DATABASE_READ_URLS: [] });
  });

  it('takes a libpq multi-host DATABASE_URL as it is', () => {
    const url = 'postgres://u:p@h1:5432,h2:5433/db?target_session_attrs=read-write';
    expect(readEnvironment({ DATABASE_URL: url }, ['DATABASE_URL'])).toEqual({ DATABASE_URL: url });
    expect(() => readEnvironment({ DATABASE_URL: 'http://h1,h2/db' }, ['DATABASE_URL'])).toThrow(ConfigError);
  });

  it('takes LOG_LEVEL in any case and INGEST_URL without trailing slashes', () => {
    expect(readEnvironment({ LOG_LEVEL: 'WARN', INGEST_URL: 'https://ingest:4201//' }, ['LOG_LEVEL', 'INGEST_URL'])).toEqual({ LOG_LEVEL: 'warn', INGEST_URL: 'https://ingest:4201' });
  });
});
