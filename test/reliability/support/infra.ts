import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  ClusterState,
  ClusterUrls,
  downCluster,
  followPrimary,
  KafkaHandle,
  killPostgresNode,
  PostgresHandle,
  promotePostgresNode,
  restartPostgresNode,
  startBroker,
  startKafka,
  startPostgres,
  stopKafka,
  stopPostgres,
  upCluster,
} from '../../../infra/local';
import { isAlive, sleep } from '../../../infra/local/proc';
import { createDatabase } from '../../../infra/local/postgres';

// A Kafka broker and a PostgreSQL server of the spec's own, in a throw-away
// directory: fault tests stop and restart them, which the shared test
// infrastructure must never see. Both restart on the same data and ports.

export interface Infra {
  brokers: string;
  databaseUrl: string;
  /** Runs SQL on the test database on a connection of its own (so it works across restarts). */
  admin<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface PrivateInfra extends Infra {
  dir: string;
  stopKafka(): Promise<void>;
  startKafka(): Promise<void>;
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
}

async function query<T>(url: string, text: string, values: unknown[]): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * For the tests that only kill ingest processes: the broker and server jest's
 * globalSetup provides, with a database of the spec's own (topics are per test).
 */
export async function sharedInfra(name: string): Promise<Infra> {
  const brokers = process.env.KAFKA_BROKERS;
  const serverUrl = process.env.DATABASE_URL;
  if (!brokers || !serverUrl) throw new Error('KAFKA_BROKERS and DATABASE_URL are not set: run the tests through jest (its globalSetup starts them)');
  const database = await createDatabase(serverUrl, `reliability_${name}_${randomBytes(4).toString('hex')}`);
  const databaseUrl = database.url;
  return {
    brokers,
    databaseUrl,
    admin: (text, values = []) => query(databaseUrl, text, values),
    close: () => database.drop(),
  };
}

export async function startPrivateInfra(name: string): Promise<PrivateInfra> {
  const dir = mkdtempSync(join(tmpdir(), `reliability-${name}-`));
  const kafkaDir = join(dir, 'kafka');
  const postgresDir = join(dir, 'postgres');
  // persistent: the data must survive a restart (stopPostgres deletes a throw-away cluster);
  // durability costs a flush per commit, which ALTER SYSTEM below turns off again.
  let [kafka, postgres]: [KafkaHandle, PostgresHandle] = await Promise.all([
    startKafka({ dataDir: kafkaDir, partitions: 6 }),
    startPostgres({ dataDir: postgresDir, persistent: true }),
  ]);
  const admin = <T>(text: string, values: unknown[] = []): Promise<T[]> => query<T>(postgres.databaseUrl, text, values);
  await admin('ALTER SYSTEM SET synchronous_commit = off');
  await admin('ALTER SYSTEM SET fsync = off');
  await admin('SELECT pg_reload_conf()');
  return {
    brokers: kafka.brokers,
    databaseUrl: postgres.databaseUrl,
    dir,
    admin,
    stopKafka: () => stopKafka(kafkaDir),
    async startKafka() {
      kafka = await startKafka({ dataDir: kafkaDir, port: kafka.port, controllerPort: kafka.controllerPort, version: kafka.version, partitions: 6 });
    },
    stopPostgres: () => stopPostgres(postgresDir),
    async startPostgres() {
      postgres = await startPostgres({ dataDir: postgresDir, port: postgres.port, persistent: true });
    },
    async close() {
      await Promise.allSettled([stopKafka(kafkaDir), stopPostgres(postgresDir)]);
      if (!process.env.RELIABILITY_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClusterInfra extends Infra {
  dir: string;
  state: ClusterState;
  urls: ClusterUrls;
  /** kill -9 of one broker's JVM; resolves once it is gone. */
  killBroker(nodeId: number): Promise<void>;
  startBroker(nodeId: number): Promise<void>;
  /** SIGTERM to one broker (a controlled shutdown: it hands its leaderships over first); resolves once it is gone. */
  stopBroker(nodeId: number): Promise<void>;
  /** kill -9 of a PostgreSQL node's postmaster (`primary`, `standby_1`, ...). */
  killPostgres(name: string): Promise<void>;
  restartPostgres(name: string): Promise<void>;
  promote(name: string): Promise<void>;
  /** Points a remaining standby at the promoted node (followPrimary). */
  follow(name: string, primary: string): Promise<void>;
  /** SQL on one node's test database (the primary is `primary`). */
  on<T = Record<string, unknown>>(name: string, text: string, values?: unknown[]): Promise<T[]>;
  /** libpq's multi-host URL over every PostgreSQL node, asking for the one that accepts writes. */
  failoverUrl: string;
}

/** The local cluster of `infra up --cluster` (3 brokers, a primary and its standbys), the spec's own, throw-away. */
export async function startClusterInfra(name: string, standbys = 2): Promise<ClusterInfra> {
  const dir = mkdtempSync(join(tmpdir(), `reliability-${name}-`));
  const { state, urls } = await upCluster({ dir, persistent: false, standbys, kafkaPartitions: 6 });
  const nodeUrl = (node: string): string => {
    const found = state.postgres.find((n) => n.name === node);
    if (!found) throw new Error(`no PostgreSQL node ${node}`);
    return `postgres://postgres:postgres@127.0.0.1:${found.port}/artifacts`;
  };
  let writer = 'primary';
  return {
    dir,
    state,
    urls,
    brokers: urls.KAFKA_BROKERS,
    databaseUrl: urls.DATABASE_URL,
    failoverUrl: `postgres://postgres:postgres@${state.postgres.map((n) => `127.0.0.1:${n.port}`).join(',')}/artifacts?target_session_attrs=read-write`,
    // after a promotion, the promoted node holds the read model
    admin: (text, values = []) => query(nodeUrl(writer), text, values),
    on: (node, text, values = []) => query(nodeUrl(node), text, values),
    async killBroker(nodeId) {
      const broker = state.brokers.find((b) => b.nodeId === nodeId);
      if (!broker || !isAlive(broker.pid)) return;
      process.kill(broker.pid, 'SIGKILL');
      while (isAlive(broker.pid)) await sleep(50);
    },
    async startBroker(nodeId) {
      await startBroker(state, nodeId, 6);
    },
    async stopBroker(nodeId) {
      const broker = state.brokers.find((b) => b.nodeId === nodeId);
      if (broker) await stopKafka(broker.dataDir);
    },
    async killPostgres(node) {
      const pid = killPostgresNode(state, node);
      while (isAlive(pid)) await sleep(50);
    },
    restartPostgres: (node) => restartPostgresNode(state, node),
    async promote(node) {
      await promotePostgresNode(state, node);
      writer = node;
    },
    follow: (node, primary) => followPrimary(state, node, primary),
    async close() {
      await downCluster(dir).catch(() => undefined);
      if (!process.env.RELIABILITY_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}
