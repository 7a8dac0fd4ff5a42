import { randomBytes } from 'node:crypto';
import { Admin, ITopicConfig, Kafka, logLevel, Message, PartitionMetadata, Partitioners, Producer } from 'kafkajs';
import { createTopicsSettled, dlqTopic, HeaderValue, PartitionedSender, partitionsOf } from '@app/contracts';
import { readTables, ReadModelTables } from '@app/projections';
import { AppProcess, freePort, spawnApp, waitFor } from '../../../infra/local/apps';
import type { IngestCounts } from '../../../apps/ingest/src/ingest.metrics';
import { count, ingestCounts } from '../../support/ingest-fixture';
import { readAll } from '../../support/kafka';
import { ClusterInfra, Infra, PrivateInfra, sharedInfra, startClusterInfra, startPrivateInfra } from './infra';
import { compareTables, TopicFollower } from './oracle';
import type { Stream, Workload, WorkloadMessage } from './workload';

// One reliability scenario: a private broker and PostgreSQL, topics and a group of
// its own, ingest processes started and killed at will, and the end-of-test check
// that compares the real tables with the oracle row for row.

export interface WorldOptions {
  /** A broker and PostgreSQL of the test's own, which it may stop and restart (default: the shared ones, with a database of its own). */
  private?: boolean;
  /** The local cluster of its own (3 brokers, a primary and `standbys` standbys); the ingest app creates the topics (replication factor 3). */
  cluster?: { standbys: number };
  partitions?: number;
  /** Extra topic configs for both source topics (e.g. max.message.bytes). */
  topicConfig?: ITopicConfig['configEntries'];
}

export interface CheckpointRow {
  next: bigint;
  applied: bigint;
  deadLettered: bigint;
}

export interface Verification {
  /** Messages in the topics (sum of high-water marks: the topics start at offset 0). */
  messages: number;
  /** Decodable events the oracle folded. */
  events: number;
  /** Messages the oracle could not decode (must all be dead-lettered). */
  poison: number;
  rows: number;
  mismatches: number;
  report: string;
  /** Partitions whose stored checkpoint is not the high-water mark. */
  checkpointProblems: string[];
  /** Partitions where the durable applied-messages counter differs from the number of messages in the partition. */
  appliedProblems: string[];
  appliedMessages: number;
  deadLettered: number;
  /** CloudEvent ids of the decodable events the topics hold. */
  eventIds: ReadonlySet<string>;
}

export class World {
  readonly apps: AppProcess[] = [];
  /** Running loads, stopped by close() when a test fails half-way. */
  readonly loads = new Set<Load>();
  private readonly kafka: Kafka;
  private producer?: Producer;
  private sender?: PartitionedSender<Message, PartitionMetadata>;
  private adminClient?: Admin;

  private constructor(
    readonly name: string,
    readonly infra: Infra,
    readonly topics: Record<Stream, string>,
    readonly groupId: string,
    readonly partitions: number,
  ) {
    this.kafka = new Kafka({
      clientId: `reliability-${name}`,
      brokers: infra.brokers.split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      retry: { retries: 12, initialRetryTime: 300, maxRetryTime: 3000 },
    });
  }

  static async create(name: string, options: WorldOptions = {}): Promise<World> {
    const infra = options.cluster ? await startClusterInfra(name, options.cluster.standbys) : options.private ? await startPrivateInfra(name) : await sharedInfra(name);
    const suffix = randomBytes(3).toString('hex');
    const world = new World(name, infra, { artifacts: `rel-${suffix}.artifacts`, runs: `rel-${suffix}.runs` }, `rel-${name}-${suffix}`, options.partitions ?? 6);
    if (options.cluster) return world;
    try {
      const admin = await world.admin();
      await createTopicsSettled(
        admin,
        [world.topics.artifacts, world.topics.runs].flatMap((topic) => [
          { topic, numPartitions: world.partitions, replicationFactor: 1, configEntries: options.topicConfig ?? [] },
          { topic: dlqTopic(topic), numPartitions: world.partitions, replicationFactor: 1 },
        ]),
      );
    } catch (error) {
      await infra.close();
      throw error;
    }
    return world;
  }

  /** The cluster of World.create(name, { cluster }), to kill and restart members of. */
  get cluster(): ClusterInfra {
    if (!('killBroker' in this.infra)) throw new Error(`${this.name}: not a cluster world`);
    return this.infra as ClusterInfra;
  }

  /** The private broker and PostgreSQL (World.create(name, { private: true })), to stop and restart. */
  get own(): PrivateInfra {
    if (!('stopKafka' in this.infra)) throw new Error(`${this.name}: not a private world`);
    return this.infra as PrivateInfra;
  }

  async admin(): Promise<Admin> {
    if (!this.adminClient) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.adminClient = admin;
    }
    return this.adminClient;
  }

  /** Waits until the topics exist and every broker asked knows their leaders (the ingest app creates them on a cluster). */
  async topicsReady(timeoutMs = 120_000): Promise<void> {
    const admin = await this.admin();
    const topics = [this.topics.artifacts, this.topics.runs];
    await waitFor(
      'the topics and their leaders',
      async () => {
        const metadata = await admin.fetchTopicMetadata({ topics }).catch(() => undefined);
        return metadata?.topics.length === 2 && metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) ? true : undefined;
      },
      timeoutMs,
      200,
    );
  }

  ingestEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.infra.databaseUrl,
      KAFKA_BROKERS: this.infra.brokers,
      ARTIFACT_TOPIC: this.topics.artifacts,
      RUN_TOPIC: this.topics.runs,
      KAFKA_GROUP_ID: this.groupId,
      KAFKA_TOPIC_PARTITIONS: String(this.partitions),
      ...extra,
    };
  }

  /** Spawns `node dist/apps/ingest/main.js` on a free port; does not wait for anything. */
  async startIngest(extra: Record<string, string> = {}): Promise<AppProcess> {
    const app = spawnApp('ingest', this.ingestEnv({ INGEST_PORT: String(await freePort()), ...extra }));
    this.apps.push(app);
    return app;
  }

  /** Produces in order, in requests small enough for the broker's 1 MB record batches. */
  async send(messages: WorkloadMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 1000) await this.sendChunk(messages.slice(i, i + 1000));
  }

  private async sendChunk(messages: WorkloadMessage[]): Promise<void> {
    if (!this.sender) {
      // Not idempotent (RELIABLE_PRODUCER): kafkajs 2.2.4's idempotent producer stalled once when a leader
      // was killed; a retried send may duplicate, which the oracle reads back. One send per partition
      // (PartitionedSender), or kafkajs acknowledges messages it never wrote when a leader fails.
      this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
      await this.producer.connect();
      const admin = await this.admin();
      this.sender = new PartitionedSender<Message, PartitionMetadata>(this.producer, partitionsOf(admin), Partitioners.DefaultPartitioner());
    }
    const sender = this.sender;
    await Promise.all(
      (['artifacts', 'runs'] as const)
        .map((stream) => ({ topic: this.topics[stream], messages: messages.filter((m) => m.stream === stream).map((m) => m.message) }))
        .filter((t) => t.messages.length > 0)
        .map((t) => sender.send({ acks: -1, ...t })),
    );
  }

  /** High-water mark of every partition of both topics, `topic:partition` → offset. */
  async highs(): Promise<Map<string, bigint>> {
    const admin = await this.admin();
    const out = new Map<string, bigint>();
    for (const topic of [this.topics.artifacts, this.topics.runs]) {
      for (const p of await admin.fetchTopicOffsets(topic)) out.set(`${topic}:${p.partition}`, BigInt(p.high));
    }
    return out;
  }

  async checkpoints(): Promise<Map<string, CheckpointRow>> {
    const rows = await this.infra.admin<{ topic: string; partition: number; next_offset: string; applied_messages: string; dead_lettered: string }>(
      'SELECT topic, partition, next_offset, applied_messages, dead_lettered FROM consumer_checkpoint WHERE group_id = $1',
      [this.groupId],
    );
    return new Map(rows.map((r) => [`${r.topic}:${r.partition}`, { next: BigInt(r.next_offset), applied: BigInt(r.applied_messages), deadLettered: BigInt(r.dead_lettered) }]));
  }

  /** Sum of the stored checkpoints (0 while the database is unreachable or not migrated). */
  async progress(): Promise<bigint> {
    try {
      let sum = 0n;
      for (const c of (await this.checkpoints()).values()) sum += c.next;
      return sum;
    } catch {
      return 0n;
    }
  }

  /** Messages not yet applied: the sum over partitions of high-water mark minus stored checkpoint. */
  async lag(): Promise<bigint> {
    const [highs, checkpoints] = await Promise.all([this.highs(), this.checkpoints()]);
    let lag = 0n;
    for (const [key, high] of highs) lag += high - (checkpoints.get(key)?.next ?? 0n);
    return lag;
  }

  /** A canonical dump of the real tables (readTables), in the oracle's shape. */
  tables(): Promise<ReadModelTables> {
    return readTables({ query: async <Row>({ text, values }: { text: string; values: unknown[] }) => ({ rows: await this.infra.admin<Row>(text, values) }) });
  }

  /** Every message of a topic up to its high-water marks (the .dlq topics). */
  async readTopic(topic: string) {
    return readAll(this.kafka, await this.admin(), topic);
  }

  /**
   * Waits on the consumer's own progress: every stored checkpoint at its partition's high-water mark.
   * On timeout the error names the partitions behind and what each running ingest app shows.
   */
  async waitDrained(timeoutMs = 120_000): Promise<void> {
    let behind: string[] = [];
    try {
      await waitFor(
        'checkpoints at the high-water marks',
        async () => {
          const [highs, checkpoints] = await Promise.all([this.highs(), this.checkpoints()]);
          behind = [...highs].filter(([key, high]) => high > 0n && checkpoints.get(key)?.next !== high).map(([key, high]) => `${key} at ${checkpoints.get(key)?.next ?? 'none'} of ${high}`);
          return behind.length === 0 ? true : undefined;
        },
        timeoutMs,
        250,
      );
    } catch (error) {
      const running = this.apps.filter((app) => app.child.exitCode === null && app.child.signalCode === null);
      const apps = await Promise.all(running.map((app) => describeIngest(app)));
      throw new Error(`${(error as Error).message}; behind: ${behind.join(', ')}\n${apps.join('\n\n')}`);
    }
  }

  /**
   * The end of every fault test: reads the topics back into the oracle and compares
   * its tables with a canonical dump of the real ones, row for row; checks that every
   * checkpoint is at its high-water mark and that the durable applied-messages counter
   * equals the number of messages (each message applied exactly once).
   */
  async verify(options: { exclude?: (headers: Record<string, HeaderValue>) => boolean } = {}): Promise<Verification> {
    const highs = await this.highs();
    const follower = await TopicFollower.start(this.infra.brokers, this.topics, options.exclude);
    try {
      await follower.reach(highs);
      const diff = compareTables(follower.tables(), await this.tables());
      const checkpoints = await this.checkpoints();
      const checkpointProblems: string[] = [];
      const appliedProblems: string[] = [];
      let messages = 0;
      let appliedMessages = 0;
      let deadLettered = 0;
      for (const [key, high] of highs) {
        messages += Number(high);
        const c = checkpoints.get(key);
        appliedMessages += Number(c?.applied ?? 0n);
        deadLettered += Number(c?.deadLettered ?? 0n);
        if (high > 0n && c?.next !== high) checkpointProblems.push(`${key}: checkpoint ${c?.next ?? 'none'}, high-water mark ${high}`);
        if ((c?.applied ?? 0n) !== high) appliedProblems.push(`${key}: applied ${c?.applied ?? 0n} messages, partition holds ${high}`);
      }
      return {
        messages,
        events: follower.events,
        poison: follower.poison.length,
        rows: diff.rows,
        mismatches: diff.mismatches,
        report: diff.report,
        checkpointProblems,
        appliedProblems,
        appliedMessages,
        deadLettered,
        eventIds: follower.ids,
      };
    } finally {
      await follower.stop();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.loads].map((load) => load.stop()));
    await Promise.allSettled(this.apps.map((app) => app.kill9()));
    await Promise.allSettled([this.producer?.disconnect(), this.adminClient?.disconnect()]);
    await this.infra.close();
  }
}

/** Produces a workload in the background at a steady rate until stopped; survives broker outages (a failed send is retried, which may write duplicates: the oracle reads back what is really there). */
export class Load {
  produced = 0;
  failures = 0;
  /** CloudEvent ids of the workload's events whose send Kafka acknowledged. */
  readonly acknowledged: string[] = [];
  private running = true;
  readonly done: Promise<void>;

  constructor(
    private readonly world: World,
    private readonly workload: Workload,
    private readonly perSecond: number,
    private readonly limit = Infinity,
  ) {
    world.loads.add(this);
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    const tick = 100;
    let pending: WorkloadMessage[] = [];
    const started = Date.now();
    while (this.running && this.produced < this.limit) {
      const due = Math.min(this.limit, Math.floor(((Date.now() - started) / 1000) * this.perSecond));
      if (pending.length === 0 && due > this.produced) pending = this.workload.take(Math.min(2000, due - this.produced));
      if (pending.length > 0) {
        try {
          await this.world.send(pending);
          this.produced += pending.length;
          for (const m of pending) if (m.id) this.acknowledged.push(m.id);
          pending = [];
        } catch {
          this.failures++;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      } else {
        await new Promise((resolve) => setTimeout(resolve, tick));
      }
    }
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.done;
    this.world.loads.delete(this);
    return this.produced;
  }
}

/** A counter of the ingest app summed over all its series, from its GET /status; throws when the app reports no such counter. */
export async function countTotal(app: AppProcess, name: keyof IngestCounts): Promise<number> {
  return count(await ingestCounts(app), name);
}

/** What an ingest app and a load show now (its /ready and /status answers, its recent output), for the message of a failed wait. */
export async function describeIngest(app: AppProcess, load?: Load): Promise<string> {
  const get = (path: string): Promise<string> =>
    fetch(app.url + path, { signal: AbortSignal.timeout(10_000) }).then(
      async (response) => `${response.status} ${await response.text()}`,
      (error: Error) => `no answer: ${error.message}`,
    );
  return [
    ...(load ? [`load: ${load.produced} produced, ${load.failures} failed sends`] : []),
    `ingest ${app.url} exit: ${app.child.exitCode ?? app.child.signalCode ?? 'running'}`,
    `GET /ready: ${await get('/ready')}`,
    `GET /status: ${await get('/status')}`,
    `ingest output (last 6000 characters):\n${app.output().slice(-6000)}`,
  ].join('\n');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or `fallback` after `ms` (the timer does not outlive the race). */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the stored checkpoints move past `from` (the instance is consuming), or the app exits. */
export async function waitForProgress(world: World, from: bigint, app?: AppProcess, timeoutMs = 60_000): Promise<bigint> {
  return waitFor(
    'ingest progress',
    async () => {
      const now = await world.progress();
      if (now > from) return now;
      if (app && app.child.exitCode !== null) return -1n;
      if (app && app.child.signalCode !== null) return -1n;
      return undefined;
    },
    timeoutMs,
    50,
  );
}
