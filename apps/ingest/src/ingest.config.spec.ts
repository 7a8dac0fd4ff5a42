import { ConfigError, loadIngestConfig } from './ingest.config';

describe('ingest configuration: Kafka client security', () => {
  it('takes KAFKA_SSL / KAFKA_SASL_* through the shared parser', () => {
    const config = loadIngestConfig({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'ingest', KAFKA_SASL_PASSWORD: 'pw-123456' });
    expect(config.kafkaSecurity).toEqual({ ssl: true, sasl: { mechanism: 'scram-sha-256', username: 'ingest', password: 'pw-123456' } });
    expect(loadIngestConfig({}).kafkaSecurity).toEqual({ ssl: false });
  });

  it('a bad value is a ConfigError (main prints "ingest: invalid configuration: <line>")', () => {
    expect(() => loadIngestConfig({ KAFKA_SASL_MECHANISM: 'md5', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'pw-123456' })).toThrow(
      new ConfigError('KAFKA_SASL_MECHANISM must be plain, scram-sha-256, scram-sha-512, got "md5"'),
    );
    expect(() => loadIngestConfig({ KAFKA_SSL: 'on' })).toThrow(ConfigError);
  });
});
