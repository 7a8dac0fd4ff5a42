import { readFileSync } from 'node:fs';

// The Kafka client security variables of the apps and the scripts (README, "Environment"):
// KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD.
// Parsed in one place so that every Kafka client of the project reads them alike.
// Typed structurally: this library does not depend on kafkajs.

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export const SASL_MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

export interface KafkaSecurity {
  /** TLS to the brokers. */
  ssl: boolean;
  /** PEM file of the CA(s) to trust instead of Node's default ones (KAFKA_SSL_CA_FILE). */
  caFile?: string;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

/** A malformed variable; the message is one line and never holds the password. */
export class KafkaSecurityError extends Error {}

/** The `ssl` and `sasl` fields of a kafkajs `KafkaConfig`. */
export interface KafkaClientSecurity {
  ssl?: true | { ca: string[] };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new KafkaSecurityError(`${name} must be true or false, got "${env[name]}"`);
}

/** Reads the variables; unset means plaintext without authentication. */
export function parseKafkaSecurity(env: NodeJS.ProcessEnv): KafkaSecurity {
  const security: KafkaSecurity = { ssl: flag(env, 'KAFKA_SSL') };
  const caFile = env.KAFKA_SSL_CA_FILE;
  if (caFile) {
    if (!security.ssl) throw new KafkaSecurityError('KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true');
    try {
      readFileSync(caFile);
    } catch (error) {
      throw new KafkaSecurityError(`KAFKA_SSL_CA_FILE cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (${caFile})`);
    }
    security.caFile = caFile;
  }
  const mechanism = (env.KAFKA_SASL_MECHANISM ?? '').trim().toLowerCase();
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = env;
  if (mechanism === '') {
    if (username || password) throw new KafkaSecurityError('KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD are set but KAFKA_SASL_MECHANISM is not');
    return security;
  }
  if (!SASL_MECHANISMS.includes(mechanism as SaslMechanism)) {
    throw new KafkaSecurityError(`KAFKA_SASL_MECHANISM must be ${SASL_MECHANISMS.join(', ')}, got "${env.KAFKA_SASL_MECHANISM}"`);
  }
  if (!username || !password) throw new KafkaSecurityError('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM');
  security.sasl = { mechanism: mechanism as SaslMechanism, username, password };
  return security;
}

/** What to spread into a kafkajs `KafkaConfig` (reads the CA file). */
export function kafkaClientSecurity(security: KafkaSecurity): KafkaClientSecurity {
  const out: KafkaClientSecurity = {};
  if (security.ssl) out.ssl = security.caFile ? { ca: [readFileSync(security.caFile, 'utf8')] } : true;
  if (security.sasl) out.sasl = { ...security.sasl };
  return out;
}

/** Connection and retry timing; the defaults are the ingest app's, the events CLI gives up sooner. */
export interface KafkaClientTiming {
  connectionTimeout: number;
  requestTimeout: number;
  retry: { retries: number; initialRetryTime: number; maxRetryTime: number };
}

/** A kafkajs `KafkaConfig`, typed structurally (logLevel 0 is kafkajs's NOTHING: errors reach us as rejections). */
export interface KafkaClientConfig extends KafkaClientSecurity, KafkaClientTiming {
  clientId: string;
  brokers: string[];
  logLevel: 0;
}

const INGEST_TIMING: KafkaClientTiming = {
  connectionTimeout: 3000,
  requestTimeout: 30_000,
  retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5000 },
};

/** The one configuration of every kafkajs client of the project (the ingest adapter, the scripts). */
export function kafkaClientConfig(options: { clientId: string; brokers: string[]; security: KafkaSecurity; timing?: Partial<KafkaClientTiming> }): KafkaClientConfig {
  return {
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: 0,
    ...INGEST_TIMING,
    ...options.timing,
    ...kafkaClientSecurity(options.security),
  };
}
