import type { ProgressReport } from '@app/contracts';
import { DataSource, readCheckpoints, sqlOf } from '@app/persistence';
import { KafkaAdapter } from './kafka/kafka.adapter';
import { IngestMetrics } from './ingest.metrics';

// /ready and /metrics must answer while Kafka or PostgreSQL is away: their clients
// retry for tens of seconds, longer than any probe or scrape waits.
const REPORT_DEADLINE_MS = 3000;

async function withinDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Kafka or PostgreSQL did not answer within ${REPORT_DEADLINE_MS} ms`)), REPORT_DEADLINE_MS);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Compares stored checkpoints with the high-water marks read now (the `/ready` rule of docs/operations.md). */
export class ConsumerProgress {
  constructor(
    private readonly dataSource: DataSource,
    private readonly kafka: KafkaAdapter,
    private readonly groupId: string,
    private readonly topics: string[],
    private readonly metrics: IngestMetrics,
  ) {}

  async report(): Promise<ProgressReport> {
    const [offsets, checkpoints] = await withinDeadline(
      Promise.all([this.kafka.partitionOffsets(this.topics), readCheckpoints(sqlOf(this.dataSource), this.groupId)]),
    );
    offsets.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    const partitions = offsets.map((p) => {
      const checkpoint = checkpoints.get(`${p.topic}:${p.partition}`) ?? null;
      // Without a checkpoint nothing was consumed yet: everything still in the log is lag.
      const position = checkpoint ?? p.low;
      const lag = p.high > position ? p.high - position : 0n;
      return { topic: p.topic, partition: p.partition, high_watermark: p.high.toString(), checkpoint: checkpoint?.toString() ?? null, lag: lag.toString() };
    });
    this.metrics.refreshLag(partitions.map((p) => ({ topic: p.topic, partition: p.partition, lag: BigInt(p.lag) })));
    return { caught_up: partitions.every((p) => p.lag === '0'), partitions };
  }

  /** The durable tallies of this group's checkpoint rows (migration 1700000000020): every message applied, and the dead letters among them, since the group began. */
  async durableTotals(): Promise<{ applied_messages: string; dead_lettered: string }> {
    const { rows } = await withinDeadline(
      sqlOf(this.dataSource).query<{ applied_messages: string; dead_lettered: string }>({
        text: `SELECT coalesce(sum(applied_messages), 0)::text AS applied_messages, coalesce(sum(dead_lettered), 0)::text AS dead_lettered
               FROM consumer_checkpoint WHERE group_id = $1::text AND topic = ANY($2::text[])`,
        values: [this.groupId, this.topics],
      }),
    );
    return rows[0] ?? { applied_messages: '0', dead_lettered: '0' };
  }
}
