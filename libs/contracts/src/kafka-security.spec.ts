import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaClientSecurity, KafkaSecurityError, parseKafkaSecurity } from './kafka-security';

describe('Kafka client security variables', () => {
  let dir: string;
  let caFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kafka-security-spec-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('unset means plaintext without authentication', () => {
    expect(parseKafkaSecurity({})).toEqual({ ssl: false });
    expect(parseKafkaSecurity({ KAFKA_SSL: '', KAFKA_SASL_MECHANISM: '' })).toEqual({ ssl: false });
    expect(kafkaClientSecurity({ ssl: false })).toEqual({});
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('KAFKA_SSL=%s', (value, ssl) => {
    expect(parseKafkaSecurity({ KAFKA_SSL: value }).ssl).toBe(ssl);
  });

  it('TLS with a private CA hands its PEM to the client', () => {
    const security = parseKafkaSecurity({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: caFile });
    expect(security).toEqual({ ssl: true, caFile });
    expect(kafkaClientSecurity(security)).toEqual({ ssl: { ca: [expect.stringContaining('BEGIN CERTIFICATE')] } });
    expect(kafkaClientSecurity({ ssl: true })).toEqual({ ssl: true });
  });

  it.each(['plain', 'scram-sha-256', 'SCRAM-SHA-512'])('KAFKA_SASL_MECHANISM=%s, with TLS or without', (mechanism) => {
    const env = { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'ingest', KAFKA_SASL_PASSWORD: ' pass word ' };
    const sasl = { mechanism: mechanism.toLowerCase(), username: 'ingest', password: ' pass word ' };
    expect(parseKafkaSecurity(env)).toEqual({ ssl: false, sasl });
    expect(kafkaClientSecurity(parseKafkaSecurity({ ...env, KAFKA_SSL: '1' }))).toEqual({ ssl: true, sasl });
  });

  it.each([
    [{ KAFKA_SSL: 'yes' }, 'KAFKA_SSL must be true or false, got "yes"'],
    [{ KAFKA_SSL_CA_FILE: '/ca.pem' }, 'KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true'],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' }, 'KAFKA_SSL_CA_FILE cannot be read: ENOENT (/nonexistent/ca.pem)'],
    [{ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'secret-pw' }, 'KAFKA_SASL_MECHANISM must be plain, scram-sha-256, scram-sha-512, got "gssapi"'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }, 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'secret-pw' }, 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM'],
    [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'secret-pw' }, 'KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD are set but KAFKA_SASL_MECHANISM is not'],
  ])('%j is refused with one clear line, without the password', (env, message) => {
    let error: unknown;
    try {
      parseKafkaSecurity(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KafkaSecurityError);
    expect((error as Error).message).toBe(message);
    expect((error as Error).message).not.toContain('secret-pw');
  });
});
