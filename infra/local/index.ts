// Local infrastructure for tests, `npm run infra` and `npm run stack`: starts what the
// environment does not already provide (KAFKA_BROKERS, DATABASE_URL) and remembers in
// <dir>/state.json what it started, so `down` stops exactly that, from any process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isProcessOf, portAnswers, recordFile } from './proc';
import { resolveKafkaVersion, startKafka, stopKafka } from './kafka';
import { postgresStatus, startPostgres, stopPostgres } from './postgres';

export { defaultKafkaVersion, ensureKafkaJars, resolveKafkaVersion, startKafka, stopKafka } from './kafka';
export type { ExtraListener, KafkaHandle, KafkaStartOptions } from './kafka';
export { killPostgres, promotePostgres, startPostgres, stopPostgres } from './postgres';
export * from './cluster';
export type { PostgresHandle, PostgresStartOptions } from './postgres';

export interface UpOptions {
  dir: string;
  persistent: boolean;
  /** 0/undefined: the port used last time in this dir, else a free one. */
  kafkaPort?: number;
  kafkaControllerPort?: number;
  postgresPort?: number;
  /** Defaults to env KAFKA_VERSION, then infra/kafka/pom.xml. */
  kafkaVersion?: string;
  /** Broker num.partitions; default 1. */
  kafkaPartitions?: number;
  /** Extra PostgreSQL server settings (see PostgresStartOptions.settings). */
  postgresSettings?: Record<string, string>;
}

export interface KafkaState {
  brokers: string;
  pid: number;
  port: number;
  controllerPort: number;
  version: string;
  dataDir: string;
  logFile: string;
}

export interface PostgresState {
  databaseUrl: string;
  pid?: number;
  port: number;
  dataDir: string;
  logFile: string;
}

/** Contents of <dir>/state.json: what this layer started (and has not stopped yet). */
export interface InfraState {
  persistent: boolean;
  kafka?: KafkaState;
  postgres?: PostgresState;
}

export interface UpResult {
  KAFKA_BROKERS: string;
  DATABASE_URL: string;
  started: InfraState;
  /** Which services were already running from an earlier `up` and were reused. */
  reused: { kafka: boolean; postgres: boolean };
}

export interface ServiceStatus {
  source: 'env' | 'local' | 'none';
  url?: string;
  pid?: number;
  alive: boolean;
  version?: string;
  logFile?: string;
}

export interface InfraStatus {
  kafka: ServiceStatus;
  postgres: ServiceStatus;
}

const STATE = recordFile<InfraState>('state.json');

export function readState(dir: string): InfraState | undefined {
  return STATE.read(dir);
}

function writeState(dir: string, state: InfraState): void {
  if (state.kafka || state.postgres) STATE.write(dir, state);
  else STATE.remove(dir);
}

async function kafkaRuns(k: KafkaState | undefined): Promise<boolean> {
  return !!k && isProcessOf(k.pid, 'kafka.Kafka') && (await portAnswers(k.port));
}

async function postgresRuns(p: PostgresState | undefined): Promise<boolean> {
  return !!p && postgresStatus(p.dataDir) !== undefined && (await portAnswers(p.port));
}

/**
 * Starts what is missing: Kafka unless env KAFKA_BROKERS is set, PostgreSQL unless env
 * DATABASE_URL is set. Idempotent: services recorded in state.json that still run are reused.
 * Does not set process.env; the caller decides.
 */
export async function up(opts: UpOptions): Promise<UpResult> {
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  const state: InfraState = { ...readState(dir), persistent: opts.persistent };
  const reused = { kafka: false, postgres: false };

  const kafka = async (): Promise<string> => {
    const version = resolveKafkaVersion(opts.kafkaVersion);
    const running = state.kafka;
    if (running && (await kafkaRuns(running))) {
      if (running.version !== version) {
        throw new Error(`Kafka ${running.version} already runs from ${dir} (pid ${running.pid}); run down first to switch to ${version}`);
      }
      reused.kafka = true;
      return running.brokers;
    }
    const dataDir = path.join(dir, 'kafka');
    await stopKafka(dataDir); // a leftover that runs but does not answer
    const k = await startKafka({
      dataDir,
      port: opts.kafkaPort || running?.port,
      controllerPort: opts.kafkaControllerPort || running?.controllerPort,
      version,
      partitions: opts.kafkaPartitions,
    });
    state.kafka = { brokers: k.brokers, pid: k.pid, port: k.port, controllerPort: k.controllerPort, version: k.version, dataDir, logFile: k.logFile };
    writeState(dir, state);
    return k.brokers;
  };

  const postgres = async (): Promise<string> => {
    const running = state.postgres;
    if (running && (await postgresRuns(running))) {
      reused.postgres = true;
      return running.databaseUrl;
    }
    const dataDir = path.join(dir, 'postgres');
    await stopPostgres(dataDir);
    const p = await startPostgres({ dataDir, port: opts.postgresPort || running?.port, persistent: opts.persistent, settings: opts.postgresSettings });
    state.postgres = { databaseUrl: p.databaseUrl, pid: p.pid, port: p.port, dataDir, logFile: p.logFile };
    writeState(dir, state);
    return p.databaseUrl;
  };

  // both at once; each records itself in state.json as soon as it runs, so down() can stop it
  const [brokers, databaseUrl] = await Promise.allSettled([
    process.env.KAFKA_BROKERS || kafka(),
    process.env.DATABASE_URL || postgres(),
  ]);
  if (brokers.status === 'rejected' || databaseUrl.status === 'rejected') {
    // leave nothing half-up: stop what this call started, keep what was reused
    if (state.kafka && !reused.kafka && brokers.status === 'fulfilled' && !process.env.KAFKA_BROKERS) {
      await stopKafka(state.kafka.dataDir).catch(() => undefined);
      delete state.kafka;
    }
    if (state.postgres && !reused.postgres && databaseUrl.status === 'fulfilled' && !process.env.DATABASE_URL) {
      await stopPostgres(state.postgres.dataDir).catch(() => undefined);
      delete state.postgres;
    }
    writeState(dir, state);
    throw brokers.status === 'rejected' ? brokers.reason : (databaseUrl as PromiseRejectedResult).reason;
  }
  return { KAFKA_BROKERS: brokers.value, DATABASE_URL: databaseUrl.value, started: state, reused };
}

/** Stops what state.json says this layer started in dir; non-persistent data is deleted. */
export async function down(dir: string): Promise<InfraState | undefined> {
  const state = readState(dir);
  if (!state) return undefined;
  const errors: string[] = [];
  if (state.kafka) {
    await stopKafka(state.kafka.dataDir).catch((err: Error) => errors.push(`Kafka: ${err.message}`));
    if (!state.persistent) fs.rmSync(state.kafka.dataDir, { recursive: true, force: true });
  }
  if (state.postgres) {
    await stopPostgres(state.postgres.dataDir).catch((err: Error) => errors.push(`PostgreSQL: ${err.message}`));
  }
  if (errors.length) throw new Error(`stopping local infrastructure: ${errors.join('; ')}`);
  writeState(dir, { persistent: state.persistent });
  return state;
}

/** What runs where: env overrides, else what state.json records and whether it is alive. */
export async function status(dir: string): Promise<InfraStatus> {
  const state = readState(dir);
  const kafka: ServiceStatus = process.env.KAFKA_BROKERS
    ? { source: 'env', url: process.env.KAFKA_BROKERS, alive: await brokersAnswer(process.env.KAFKA_BROKERS) }
    : state?.kafka
      ? { source: 'local', url: state.kafka.brokers, pid: state.kafka.pid, alive: await kafkaRuns(state.kafka), version: state.kafka.version, logFile: state.kafka.logFile }
      : { source: 'none', alive: false };
  const postgres: ServiceStatus = process.env.DATABASE_URL
    ? { source: 'env', url: process.env.DATABASE_URL, alive: await urlAnswers(process.env.DATABASE_URL) }
    : state?.postgres
      ? {
          source: 'local',
          url: state.postgres.databaseUrl,
          pid: postgresStatus(state.postgres.dataDir)?.pid ?? state.postgres.pid,
          alive: await postgresRuns(state.postgres),
          logFile: state.postgres.logFile,
        }
      : { source: 'none', alive: false };
  return { kafka, postgres };
}

function brokersAnswer(list: string): Promise<boolean> {
  const [host, port] = (list.split(',')[0] ?? '').trim().split(':');
  return portAnswers(Number(port), 1000, host);
}

function urlAnswers(url: string): Promise<boolean> {
  try {
    const u = new URL(url);
    return portAnswers(Number(u.port || 5432), 1000, u.hostname);
  } catch {
    return Promise.resolve(false);
  }
}
