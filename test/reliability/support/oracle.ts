import { Consumer, Kafka, logLevel } from 'kafkajs';
import { decodeMessage, DecodedEvent, HeaderValue } from '@app/contracts';
import { emptyModel, foldEvents, modelTables, ReadModel, ReadModelTables } from '@app/projections';
import type { Stream } from './workload';

// The reference side of every reliability check: reads back what is really in
// the topics (not what the test meant to produce: a retried send may have
// written a message twice) and folds it with the oracle, partition by partition
// in offset order. Cross-partition order does not matter (docs/events.md; checked by
// the "interleavings" property in libs/projections/src/planner-oracle.spec.ts).

export interface PoisonMessage {
  topic: string;
  partition: number;
  offset: string;
  reason: string;
}

export class TopicFollower {
  readonly model: ReadModel = emptyModel();
  /** Next offset to read per `topic:partition`. */
  readonly positions = new Map<string, bigint>();
  readonly poison: PoisonMessage[] = [];
  events = 0;
  /** CloudEvent ids of the events folded. */
  readonly ids = new Set<string>();
  /** Messages whose offsets must be skipped by the oracle (e.g. hostile events PostgreSQL rejects): `topic:partition:offset`. */
  readonly exclude = new Set<string>();
  private consumer?: Consumer;

  private constructor(private readonly topics: Record<Stream, string>) {}

  /** Starts following both topics from offset 0 with a consumer group of its own. */
  static async start(brokers: string, topics: Record<Stream, string>, exclude?: (headers: Record<string, HeaderValue>) => boolean): Promise<TopicFollower> {
    const follower = new TopicFollower(topics);
    const kafka = new Kafka({ clientId: 'reliability-oracle', brokers: brokers.split(','), logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 100, maxRetryTime: 2000 } });
    const consumer = kafka.consumer({ groupId: `oracle-${process.pid}-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 200, maxBytes: 32 * 1024 * 1024 });
    follower.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.artifacts, topics.runs], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const stream: Stream = batch.topic === topics.artifacts ? 'artifacts' : 'runs';
        const key = `${batch.topic}:${batch.partition}`;
        const events: DecodedEvent[] = [];
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          // A rejoin may replay a batch: fold each offset once, in order.
          if (offset < (follower.positions.get(key) ?? 0n)) continue;
          follower.positions.set(key, offset + 1n);
          const headers = (m.headers ?? {}) as Record<string, HeaderValue>;
          if (exclude?.(headers)) {
            follower.exclude.add(`${key}:${m.offset}`);
            continue;
          }
          const decoded = decodeMessage({ key: m.key, value: m.value, headers }, stream);
          if (decoded.ok) {
            events.push({ ...decoded.event, position: { topic: batch.topic, partition: batch.partition, offset: m.offset } });
            follower.ids.add(decoded.event.id);
          }
          else follower.poison.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, reason: decoded.reason });
        }
        foldEvents(events, follower.model);
        follower.events += events.length;
      },
    });
    return follower;
  }

  /** Waits until every partition has been read up to `highs` (`topic:partition` → high-water mark). */
  async reach(highs: Map<string, bigint>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const behind = [...highs].filter(([key, high]) => high > 0n && (this.positions.get(key) ?? 0n) < high);
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new Error(`oracle reader behind on ${behind.map(([k, h]) => `${k} ${this.positions.get(k) ?? 0n}/${h}`).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  tables(): ReadModelTables {
    return modelTables(this.model);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }

  get topicNames(): Record<Stream, string> {
    return this.topics;
  }
}

export interface TableDiff {
  mismatches: number;
  rows: number;
  report: string;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

const ROW_KEY: Record<keyof ReadModelTables, (row: Record<string, unknown>) => string> = {
  artifact: (r) => String(r.id),
  artifact_collection: (r) => String(r.key),
  flow: (r) => String(r.id),
  deployment: (r) => String(r.id),
  flow_run: (r) => String(r.id),
  task_run: (r) => String(r.id),
  tombstone: (r) => `${String(r.entity)}:${String(r.id)}`,
};

/** Row-for-row comparison of the real tables with the oracle's: every missing, extra or different row is a mismatch. */
export function compareTables(expected: ReadModelTables, actual: ReadModelTables): TableDiff {
  const lines: string[] = [];
  let mismatches = 0;
  let rows = 0;
  for (const table of Object.keys(ROW_KEY) as (keyof ReadModelTables)[]) {
    const keyOf = ROW_KEY[table];
    const want = new Map((expected[table] as unknown as Record<string, unknown>[]).map((r) => [keyOf(r), canonical(r)]));
    const got = new Map((actual[table] as unknown as Record<string, unknown>[]).map((r) => [keyOf(r), canonical(r)]));
    rows += want.size;
    const problems: string[] = [];
    for (const [key, row] of want) {
      const other = got.get(key);
      if (other === undefined) problems.push(`  missing ${key}: ${row}`);
      else if (other !== row) problems.push(`  differs ${key}:\n    oracle ${row}\n    table  ${other}`);
    }
    for (const [key, row] of got) if (!want.has(key)) problems.push(`  extra   ${key}: ${row}`);
    mismatches += problems.length;
    if (problems.length) lines.push(`${table}: ${problems.length} of ${want.size} rows differ`, ...problems.slice(0, 5));
  }
  return { mismatches, rows, report: lines.join('\n') };
}
