import { randomBytes } from 'node:crypto';
import { Partitioners, PartitionMetadata } from 'kafkajs';
import { Client } from 'pg';
import { createTopicsSettled, DecodedEvent, decodeMessage, dlqTopic, EncodedMessage } from '@app/contracts';
import { foldEvents, modelTables, readTables, ReadModelTables } from '@app/projections';
import { readCheckpoints, sqlOf } from '@app/persistence';
import { AppProcess, freePort, spawnApp, waitFor, waitForStatus } from '../../infra/local/apps';
import type { CountSeries, IngestCounts } from '../../apps/ingest/src/ingest.metrics';
import { createTestDatabase, TestDatabase } from './database';
import { connectKafka, requireBrokers, TestKafka } from './kafka';

// One world for an e2e spec: its own topics, consumer group and database, the
// ingest and query apps it starts on them, and a producer that knows the
// partition and offset of every message it sent, so the reference fold (the
// oracle) sees exactly the log the app consumed.

export type Stream = 'artifacts' | 'runs';

export interface ProducedMessage {
  stream: Stream;
  topic: string;
  partition: number;
  offset: string;
  message: EncodedMessage;
  /** The event as the app decodes it, with its position; undefined for poison. */
  event?: DecodedEvent;
}

export interface Outbound {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer>;
}

export interface FixtureOptions {
  /** Partitions of each topic when the fixture creates them (default 3). */
  partitions?: number;
  /** Create the topics and their .dlq before any app starts (default true). */
  createTopics?: boolean;
}

export class IngestFixture {
  readonly produced: ProducedMessage[] = [];
  readonly apps: AppProcess[] = [];
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly metadata = new Map<string, PartitionMetadata[]>();

  private constructor(
    readonly name: string,
    readonly topics: Record<Stream, string>,
    readonly groupId: string,
    readonly partitions: number,
    readonly db: TestDatabase,
    readonly kafka: TestKafka,
  ) {}

  static async create(prefix: string, options: FixtureOptions = {}): Promise<IngestFixture> {
    const suffix = randomBytes(4).toString('hex');
    const name = `${prefix}-${suffix}`;
    const [db, kafka] = await Promise.all([createTestDatabase(prefix.replace(/[^a-z0-9]/g, '_')), connectKafka()]);
    const fixture = new IngestFixture(name, { artifacts: `${name}.artifacts`, runs: `${name}.runs` }, `${name}-group`, options.partitions ?? 3, db, kafka);
    if (options.createTopics ?? true) await fixture.createTopics();
    return fixture;
  }

  async createTopics(topics = [this.topics.artifacts, this.topics.runs], partitions = this.partitions): Promise<void> {
    await createTopicsSettled(
      this.kafka.admin,
      [...topics, ...topics.map(dlqTopic)].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    );
  }

  /** The environment of docs/operations.md for an ingest instance of this world. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.db.url,
      KAFKA_BROKERS: requireBrokers().join(','),
      ARTIFACT_TOPIC: this.topics.artifacts,
      RUN_TOPIC: this.topics.runs,
      KAFKA_GROUP_ID: this.groupId,
      KAFKA_TOPIC_PARTITIONS: String(this.partitions),
      ...extra,
    };
  }

  /** Spawns the built ingest app; waits until it serves `/health` 200 unless `wait` is false. */
  async start(extra: Record<string, string> = {}, wait = true): Promise<AppProcess> {
    const app = spawnApp('ingest', this.env({ INGEST_PORT: String(await freePort()), ...extra }));
    this.apps.push(app);
    if (wait) await waitForStatus(app, '/health');
    return app;
  }

  /** Spawns the built query app on this world's database; waits until it serves `/api/health` 200. */
  async startQuery(extra: Record<string, string> = {}): Promise<AppProcess> {
    const app = spawnApp('query', { DATABASE_URL: this.db.url, QUERY_PORT: String(await freePort()), ...extra });
    this.apps.push(app);
    await waitForStatus(app, '/api/health');
    return app;
  }

  /** Rows of one read-model table. */
  async rowCount(table: string): Promise<number> {
    const rows = (await this.db.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`)) as { n: number }[];
    return rows[0]!.n;
  }

  /**
   * Sends messages in order (one kafkajs send per chunk). The partition is the
   * default partitioner's choice for the key (what any producer would get), set
   * explicitly so that each message's offset is known from the broker's answer.
   */
  async produce(stream: Stream, messages: Outbound[], chunk = 2_500): Promise<ProducedMessage[]> {
    const topic = this.topics[stream];
    const partitionMetadata = await this.partitionMetadata(topic);
    const out: ProducedMessage[] = [];
    for (let i = 0; i < messages.length; i += chunk) {
      const slice = messages.slice(i, i + chunk).map((m) => ({
        ...m,
        partition: m.key === null ? 0 : this.partitioner({ topic, partitionMetadata, message: { key: m.key, value: m.value } }),
      }));
      const answer = await this.kafka.producer.send({ topic, acks: -1, messages: slice });
      const next = new Map(answer.map((r) => [r.partition, BigInt(r.baseOffset ?? '-1')]));
      for (const m of slice) {
        const offset = next.get(m.partition);
        if (offset === undefined || offset < 0n) throw new Error(`no base offset for ${topic}/${m.partition}`);
        next.set(m.partition, offset + 1n);
        const message: EncodedMessage = {
          key: m.key === null ? null : Buffer.from(m.key),
          value: m.value === null ? (null as unknown as Buffer) : Buffer.from(m.value),
          headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v.toString()])),
        };
        const decoded = decodeMessage(message, stream);
        const produced: ProducedMessage = { stream, topic, partition: m.partition, offset: offset.toString(), message };
        if (decoded.ok) produced.event = { ...decoded.event, position: { topic, partition: m.partition, offset: offset.toString() } };
        out.push(produced);
      }
    }
    this.produced.push(...out);
    return out;
  }

  /** The reference fold of every valid event produced so far (or of those `keep` selects), in log order per partition. */
  oracle(keep: (p: ProducedMessage) => boolean = () => true): ReadModelTables {
    const events = this.produced
      .filter((p) => p.event !== undefined && keep(p))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || compareOffsets(a.offset, b.offset))
      .map((p) => p.event!);
    return modelTables(foldEvents(events));
  }

  /** The read-model tables as stored, in the oracle's shape. */
  tables(): Promise<ReadModelTables> {
    return readTables(sqlOf(this.db.dataSource));
  }

  /** Stored checkpoints of this group: `${topic}:${partition}` -> next offset. */
  checkpoints(): Promise<Map<string, bigint>> {
    return readCheckpoints(sqlOf(this.db.dataSource), this.groupId);
  }

  /** High-water marks of both topics: `${topic}:${partition}` -> next offset to be written. */
  async highWatermarks(): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    for (const topic of [this.topics.artifacts, this.topics.runs]) {
      for (const p of await this.kafka.admin.fetchTopicOffsets(topic)) out.set(`${topic}:${p.partition}`, BigInt(p.high));
    }
    return out;
  }

  /** Waits until `/ready` answers 200 (every partition's checkpoint at its high-water mark). */
  async caughtUp(app: AppProcess, timeoutMs = 60_000): Promise<void> {
    await waitForStatus(app, '/ready', 200, timeoutMs);
  }

  /**
   * Opens a transaction of the test's own that holds `lock` on consumer_checkpoint
   * (ACCESS EXCLUSIVE blocks even the plain reads of the checkpoints; ROW on one row
   * blocks only the runner's `FOR UPDATE` of it), until release(): a database that is
   * slow at the chosen moment, without sleeping.
   */
  async holdCheckpoints(lock: { table: true } | { row: { topic: string; partition: number } }): Promise<CheckpointHold> {
    const client = new Client({ connectionString: this.db.url, application_name: 'jest-hold' });
    await client.connect();
    await client.query('BEGIN');
    if ('table' in lock) {
      await client.query('LOCK TABLE consumer_checkpoint IN ACCESS EXCLUSIVE MODE');
    } else {
      const { rowCount } = await client.query('SELECT 1 FROM consumer_checkpoint WHERE group_id = $1 AND topic = $2 AND partition = $3 FOR UPDATE', [
        this.groupId,
        lock.row.topic,
        lock.row.partition,
      ]);
      if (rowCount !== 1) throw new Error(`no checkpoint row for ${lock.row.topic}:${lock.row.partition} yet`);
    }
    const dbName = new URL(this.db.url).pathname.slice(1);
    const dataSource = this.db.dataSource;
    let released = false;
    return {
      async waitForBlockedBatch(blockedForMs = 0, timeoutMs = 30_000) {
        // A batch starts by reading (or locking) its partition's checkpoint row; the assignment-time
        // read of all checkpoints (no partition in its WHERE) does not count.
        await waitFor(
          'an ingest batch waiting on the held checkpoint lock',
          async () => {
            // On another connection: inside the holding transaction pg_stat_activity would be a frozen snapshot.
            const rows = (await dataSource.query(
              `SELECT count(*) AS n FROM pg_stat_activity
               WHERE datname = $1 AND application_name = 'artifact-ingest' AND wait_event_type = 'Lock'
                 AND query ILIKE '%FROM consumer_checkpoint WHERE %partition = $3%' AND clock_timestamp() - query_start >= $2 * interval '1 millisecond'`,
              [dbName, blockedForMs],
            )) as { n: string }[];
            return Number(rows[0]?.n) > 0 ? true : undefined;
          },
          timeoutMs,
        );
      },
      async release() {
        if (released) return;
        released = true;
        await client.query('COMMIT').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.apps.map((app) => app.stop()));
    // The dev broker is shared: leave no topics behind.
    await this.kafka.admin
      .deleteTopics({ topics: [this.topics.artifacts, this.topics.runs].flatMap((t) => [t, dlqTopic(t)]) })
      .catch(() => undefined);
    await this.kafka.close().catch(() => undefined);
    await this.db.drop().catch(() => undefined);
  }

  private async partitionMetadata(topic: string): Promise<PartitionMetadata[]> {
    let found = this.metadata.get(topic);
    if (!found) {
      const { topics } = await this.kafka.admin.fetchTopicMetadata({ topics: [topic] });
      found = [...(topics[0]?.partitions ?? [])].sort((a, b) => a.partitionId - b.partitionId);
      if (found.length === 0) throw new Error(`topic ${topic} has no partitions`);
      this.metadata.set(topic, found);
    }
    return found;
  }
}

export interface CheckpointHold {
  /** Resolves once an ingest batch is blocked on the held lock (it is in flight), for at least `blockedForMs`. */
  waitForBlockedBatch(blockedForMs?: number, timeoutMs?: number): Promise<void>;
  release(): Promise<void>;
}

export function compareOffsets(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export async function getText(app: AppProcess, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(app.url + path);
  return { status: response.status, body: await response.text() };
}

/** The ingest app's event counters since it started, series by series, from GET /status (`since_start.counts`). */
export async function ingestCounts(app: { url: string }): Promise<IngestCounts> {
  const response = await fetch(`${app.url}/status`);
  if (response.status !== 200) throw new Error(`/status answered ${response.status}`);
  const counts = ((await response.json()) as { since_start?: { counts?: IngestCounts } }).since_start?.counts;
  if (!counts) throw new Error('/status has no since_start.counts');
  return counts;
}

/**
 * Sum of a counter over its series whose labels include `labels`. No matching series
 * throws (the app starts every known series at 0), so that a renamed or dropped count
 * fails a `toBe(0)` instead of passing it.
 */
export function count(counts: IngestCounts, name: keyof IngestCounts, labels: Omit<CountSeries, 'count'> = {}): number {
  const series = counts[name];
  if (!Array.isArray(series)) throw new Error(`/status has no ${name} count`);
  const found = series.filter((s) => Object.entries(labels).every(([k, v]) => s[k as keyof CountSeries] === v));
  if (found.length === 0) throw new Error(`/status has no ${name} count with ${JSON.stringify(labels)}`);
  return found.reduce((sum, s) => sum + s.count, 0);
}
