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
    [{ LOG_LEVEL: 'LOUD' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ INGEST_URL: 'ftp://x/' }, 'INGEST_URL must be an http(s):// URL, got ftp://...'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    const all = ['KAFKA_BROKERS', 'ARTIFACT_TOPIC', 'KAFKA_TOPIC_PARTITIONS', 'LOG_LEVEL', 'INGEST_URL'] as const;
    expect(() => readEnvironment(env, all)).toThrow(new ConfigError(message));
  });

  it('takes LOG_LEVEL in any case and INGEST_URL without trailing slashes', () => {
    expect(readEnvironment({ LOG_LEVEL: 'WARN', INGEST_URL: 'https://ingest:4201//' }, ['LOG_LEVEL', 'INGEST_URL'])).toEqual({ LOG_LEVEL: 'warn', INGEST_URL: 'https://ingest:4201' });
  });
});
