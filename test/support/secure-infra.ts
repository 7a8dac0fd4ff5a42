import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KafkaHandle, PostgresHandle, startKafka, startPostgres, stopKafka, stopPostgres } from '../../infra/local';
import type { TestCertificates } from './tls';

// A private Kafka broker with authenticated and encrypted listeners next to its
// PLAINTEXT one (which the tests use to create topics and which stays the
// inter-broker listener), and a private PostgreSQL that also accepts TLS.
//   SASL_PLAINTEXT  PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
//   SSL             TLS, no client authentication
//   SASL_SSL        SCRAM-SHA-512 inside TLS

export interface SaslUser {
  username: string;
  password: string;
}

export interface SecureInfra {
  kafka: KafkaHandle;
  postgres: PostgresHandle;
  /** `127.0.0.1:<port>` of each listener. */
  plaintext: string;
  saslPlaintext: string;
  ssl: string;
  saslSsl: string;
  users: { plain: SaslUser; scram256: SaslUser; scram512: SaslUser };
  close(): Promise<void>;
}

const user = (name: string): SaslUser => ({ username: name, password: `${name}-${randomBytes(12).toString('hex')}` });

const SCRAM_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';

export async function startSecureInfra(dir: string, certs: TestCertificates): Promise<SecureInfra> {
  const users = { plain: user('plainuser'), scram256: user('scramuser256'), scram512: user('scramuser512') };
  const kafkaDir = join(dir, 'kafka');
  const postgresDir = join(dir, 'postgres');
  const [kafka, postgres] = await Promise.all([
    startKafka({
      dataDir: kafkaDir,
      partitions: 3,
      listeners: [
        { name: 'SASL_PLAINTEXT', protocol: 'SASL_PLAINTEXT' },
        { name: 'SSL', protocol: 'SSL' },
        { name: 'SASL_SSL', protocol: 'SASL_SSL' },
      ],
      config: [
        'listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${users.plain.username}="${users.plain.password}";`,
        `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${SCRAM_MODULE}`,
        `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${SCRAM_MODULE}`,
        'listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512',
        `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${SCRAM_MODULE}`,
        'ssl.keystore.type=PEM',
        `ssl.keystore.location=${certs.keystoreFile}`,
        'ssl.client.auth=none',
      ],
      scramCredentials: [
        `SCRAM-SHA-256=[name=${users.scram256.username},password=${users.scram256.password}]`,
        `SCRAM-SHA-512=[name=${users.scram512.username},password=${users.scram512.password}]`,
      ],
    }),
    startPostgres({ dataDir: postgresDir, persistent: false, ssl: { certFile: certs.certFile, keyFile: certs.keyFile } }),
  ]).catch(async (error: Error) => {
    await Promise.all([stopKafka(kafkaDir), stopPostgres(postgresDir)]);
    throw error;
  });
  const at = (name: string): string => `127.0.0.1:${kafka.listenerPorts[name]}`;
  return {
    kafka,
    postgres,
    plaintext: kafka.brokers,
    saslPlaintext: at('SASL_PLAINTEXT'),
    ssl: at('SSL'),
    saslSsl: at('SASL_SSL'),
    users,
    async close() {
      await Promise.all([stopKafka(kafkaDir), stopPostgres(postgresDir)]);
    },
  };
}
