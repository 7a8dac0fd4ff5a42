// `infra up --cluster` and the fault tests: a 3-broker KRaft Kafka cluster (one JVM per broker,
// each a broker and one of 3 controller voters) and a PostgreSQL primary with hot standbys
// streaming from it, all on 127.0.0.1, remembered in <dir>/cluster.json so `down` stops exactly that.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { HOST, freePort, isProcessOf, recordFile } from './proc';
import { ClusterMembership, newClusterId, resolveKafkaVersion, startKafka, stopKafka } from './kafka';
import { databaseUrl, killPostgres, postgresStatus, promotePostgres, standbySettings, startPostgres, stopPostgres } from './postgres';

export interface ClusterOptions {
  dir: string;
  persistent: boolean;
  brokers?: number;
  standbys?: number;
  /** First PLAINTEXT port; broker i listens on base + 2i, its controller on base + 2i + 1. 0/undefined: free ports. */
  kafkaBasePort?: number;
  /** Primary's port; standby i listens on base + i. 0/undefined: free ports. */
  postgresBasePort?: number;
  kafkaVersion?: string;
  kafkaPartitions?: number;
}

export interface BrokerState {
  nodeId: number;
  pid: number;
  port: number;
  controllerPort: number;
  dataDir: string;
  logFile: string;
}

export interface PostgresNodeState {
  name: string;
  port: number;
  dataDir: string;
  logFile: string;
  /** The primary's port and slot this node was cloned from; none for the original primary. */
  standbyOf?: { port: number; slot: string };
}

export interface ClusterState {
  persistent: boolean;
  version: string;
  clusterId: string;
  voters: string;
  brokers: BrokerState[];
  postgres: PostgresNodeState[];
}

export interface ClusterUrls {
  KAFKA_BROKERS: string;
  DATABASE_URL: string;
  DATABASE_READ_URLS: string;
}

const STATE = recordFile<ClusterState>('cluster.json');

export function readClusterState(dir: string): ClusterState | undefined {
  return STATE.read(dir);
}

/** The cluster's URLs; `writer` names the node that accepts writes (default the first, `primary`). */
export function clusterUrls(state: ClusterState, writer = state.postgres[0]!.name): ClusterUrls {
  const primary = state.postgres.find((n) => n.name === writer) ?? state.postgres[0]!;
  return {
    KAFKA_BROKERS: state.brokers.map((b) => `${HOST}:${b.port}`).join(','),
    DATABASE_URL: databaseUrl(primary.port),
    DATABASE_READ_URLS: state.postgres
      .filter((n) => n !== primary)
      .map((n) => databaseUrl(n.port))
      .join(','),
  };
}

/**
 * The node that accepts writes now, asked of the servers themselves: after a promotion
 * (`pg_ctl promote`, by hand or by a failover manager) it is no longer `primary`. An old
 * primary started again after a failover also accepts writes, on the timeline the promotion
 * left: the newest timeline wins. Undefined when no running node (or no single one) says so.
 */
async function liveWriter(state: ClusterState): Promise<string | undefined> {
  const answers = await Promise.all(
    state.postgres.map((node) =>
      onNode(node.port, async (client) => {
        if ((await client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')).rows[0]!.standby) return undefined;
        // the timeline of the WAL written now (the first 8 hex digits of its file name)
        const timeline = (await client.query<{ file: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS file')).rows[0]!.file.slice(0, 8);
        return { name: node.name, timeline: parseInt(timeline, 16) };
      }).catch(() => undefined),
    ),
  );
  const writers = answers.filter((w): w is { name: string; timeline: number } => w !== undefined).sort((a, b) => b.timeline - a.timeline);
  return writers.length === 1 || (writers.length > 1 && writers[0]!.timeline > writers[1]!.timeline) ? writers[0]!.name : undefined;
}

const membership = (state: ClusterState, nodeId: number): ClusterMembership => ({
  nodeId,
  voters: state.voters,
  clusterId: state.clusterId,
  replicas: Math.min(3, state.brokers.length),
});

async function ports(count: number, base: number | undefined, step: number): Promise<number[]> {
  if (base) return Array.from({ length: count * step }, (_, i) => base + i);
  const chosen: number[] = [];
  while (chosen.length < count * step) chosen.push(await freePort(chosen));
  return chosen;
}

/**
 * Starts the cluster, or reuses the one recorded in dir (restarting a member that stopped).
 * The brokers start together: none answers before the controller quorum has a majority.
 */
export async function upCluster(opts: ClusterOptions): Promise<{ urls: ClusterUrls; state: ClusterState }> {
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  let state = readClusterState(dir);
  if (!state) {
    const brokerCount = opts.brokers ?? 3;
    const kafkaPorts = await ports(brokerCount, opts.kafkaBasePort, 2);
    const pgPorts = await ports(1 + (opts.standbys ?? 2), opts.postgresBasePort, 1);
    const brokers = Array.from({ length: brokerCount }, (_, i) => {
      const dataDir = path.join(dir, `kafka-${i + 1}`);
      return { nodeId: i + 1, pid: 0, port: kafkaPorts[2 * i]!, controllerPort: kafkaPorts[2 * i + 1]!, dataDir, logFile: path.join(dataDir, 'kafka.log') };
    });
    state = {
      persistent: opts.persistent,
      version: resolveKafkaVersion(opts.kafkaVersion),
      clusterId: newClusterId(),
      voters: brokers.map((b) => `${b.nodeId}@${HOST}:${b.controllerPort}`).join(','),
      brokers,
      postgres: pgPorts.map((port, i) => {
        const dataDir = path.join(dir, i === 0 ? 'postgres-primary' : `postgres-standby-${i}`);
        return { name: i === 0 ? 'primary' : `standby_${i}`, port, dataDir, logFile: path.join(dataDir, 'postgres.log'), standbyOf: i === 0 ? undefined : { port: pgPorts[0]!, slot: `standby_${i}` } };
      }),
    };
    STATE.write(dir, state);
  }
  const current = state;
  const kafka = Promise.all(current.brokers.map((b) => (brokerRuns(b) ? Promise.resolve() : startBroker(current, b.nodeId, opts.kafkaPartitions))));
  // standbys clone the primary, so they follow it
  const postgres = (async () => {
    for (const node of current.postgres) if (!postgresStatus(node.dataDir)) await startPostgresNode(current, node);
  })();
  const [k, p] = await Promise.allSettled([kafka, postgres]);
  STATE.write(dir, current);
  if (k.status === 'rejected' || p.status === 'rejected') {
    await downCluster(dir).catch(() => undefined);
    throw k.status === 'rejected' ? k.reason : (p as PromiseRejectedResult).reason;
  }
  return { urls: clusterUrls(current, await liveWriter(current)), state: current };
}

const brokerRuns = (b: BrokerState): boolean => isProcessOf(b.pid, 'kafka.Kafka');

/** (Re)starts one broker of the cluster recorded in state, with its ports, folder and membership. */
export async function startBroker(state: ClusterState, nodeId: number, partitions?: number): Promise<BrokerState> {
  const broker = state.brokers.find((b) => b.nodeId === nodeId);
  if (!broker) throw new Error(`no broker ${nodeId} in the cluster`);
  const handle = await startKafka({
    dataDir: broker.dataDir,
    port: broker.port,
    controllerPort: broker.controllerPort,
    version: state.version,
    partitions,
    cluster: membership(state, nodeId),
  });
  broker.pid = handle.pid;
  return broker;
}

async function startPostgresNode(state: ClusterState, node: PostgresNodeState): Promise<void> {
  await startPostgres({ dataDir: node.dataDir, port: node.port, persistent: state.persistent, standbyOf: node.standbyOf });
}

/** Restarts a PostgreSQL node (a standby keeps streaming from where it stopped). */
export async function restartPostgresNode(state: ClusterState, name: string): Promise<void> {
  const node = state.postgres.find((n) => n.name === name);
  if (!node) throw new Error(`no PostgreSQL node ${name} in the cluster`);
  await startPostgresNode(state, node);
}

export function killPostgresNode(state: ClusterState, name: string): number | undefined {
  const node = state.postgres.find((n) => n.name === name);
  return node ? killPostgres(node.dataDir) : undefined;
}

export async function promotePostgresNode(state: ClusterState, name: string): Promise<void> {
  const node = state.postgres.find((n) => n.name === name);
  if (!node) throw new Error(`no PostgreSQL node ${name} in the cluster`);
  await promotePostgres(node.dataDir);
  delete node.standbyOf;
}

/**
 * After a promotion, makes a remaining standby stream from the promoted node: its replication
 * slot is created there, and its primary_conninfo and primary_slot_name point there (ALTER
 * SYSTEM and a reload, no restart). It then follows the new timeline (recovery_target_timeline
 * is `latest` by default), which only works if it has not replayed past the point where the
 * promoted node left the old timeline: promote the standby that received the most WAL.
 */
export async function followPrimary(state: ClusterState, name: string, primaryName: string): Promise<void> {
  const node = state.postgres.find((n) => n.name === name);
  const primary = state.postgres.find((n) => n.name === primaryName);
  if (!node?.standbyOf || !primary) throw new Error(`${name} is not a standby, or there is no node ${primaryName}`);
  const slot = node.standbyOf.slot;
  await onNode(primary.port, (client) =>
    client.query('SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)', [slot]),
  );
  await onNode(node.port, async (client) => {
    // ALTER SYSTEM takes literals only
    for (const [setting, value] of Object.entries(standbySettings({ port: primary.port, slot }))) {
      await client.query(`ALTER SYSTEM SET ${setting} = ${client.escapeLiteral(value)}`);
    }
    await client.query('SELECT pg_reload_conf()');
  });
  node.standbyOf = { port: primary.port, slot };
}

async function onNode<T>(port: number, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl(port), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Stops every member; a non-persistent cluster's folders are deleted. */
export async function downCluster(dir: string): Promise<ClusterState | undefined> {
  const state = readClusterState(dir);
  if (!state) return undefined;
  const errors: string[] = [];
  await Promise.all(state.brokers.map((b) => stopKafka(b.dataDir).catch((err: Error) => errors.push(`Kafka ${b.nodeId}: ${err.message}`))));
  for (const node of [...state.postgres].reverse()) await stopPostgres(node.dataDir).catch((err: Error) => errors.push(`PostgreSQL ${node.name}: ${err.message}`));
  if (errors.length) throw new Error(`stopping the local cluster: ${errors.join('; ')}`);
  if (!state.persistent) for (const member of [...state.brokers, ...state.postgres]) fs.rmSync(member.dataDir, { recursive: true, force: true });
  STATE.remove(dir);
  return state;
}

export interface PostgresNodeStatus {
  name: string;
  port: number;
  alive: boolean;
  role?: 'primary' | 'standby';
  /** Standbys: WAL received but not replayed yet, and the age of the last replayed transaction when behind. */
  replayLagBytes?: number;
  replayLagSeconds?: number;
  replayPaused?: boolean;
}

export interface ClusterStatus {
  brokers: Array<{ nodeId: number; port: number; pid: number; alive: boolean }>;
  postgres: PostgresNodeStatus[];
}

export async function clusterStatus(dir: string): Promise<ClusterStatus | undefined> {
  const state = readClusterState(dir);
  if (!state) return undefined;
  return {
    brokers: state.brokers.map((b) => ({ nodeId: b.nodeId, port: b.port, pid: b.pid, alive: brokerRuns(b) })),
    postgres: await Promise.all(state.postgres.map((node) => nodeStatus(node))),
  };
}

async function nodeStatus(node: PostgresNodeState): Promise<PostgresNodeStatus> {
  const base = { name: node.name, port: node.port };
  if (!postgresStatus(node.dataDir)) return { ...base, alive: false };
  const client = new Client({ connectionString: databaseUrl(node.port), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ standby: boolean; bytes: string | null; seconds: number | null; paused: boolean | null }>(REPLICA_LAG_SQL);
    const row = rows[0]!;
    if (!row.standby) return { ...base, alive: true, role: 'primary' };
    return { ...base, alive: true, role: 'standby', replayLagBytes: Number(row.bytes ?? 0), replayLagSeconds: row.seconds ?? 0, replayPaused: row.paused ?? false };
  } catch {
    return { ...base, alive: false };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether the server is a standby and, if so, how far its replay trails what it received. */
export const REPLICA_LAG_SQL = `SELECT pg_is_in_recovery() AS standby,
  pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text AS bytes,
  CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
       ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS seconds,
  CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS paused`;
