import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ARTIFACT_EVENT_TYPES, BatchTotals, IngestCounts, isEventType, RUN_EVENT_TYPES, TopicNames } from '@app/contracts';
import { IGNORE_REASONS } from '@app/projections';

/**
 * What one batch attempt did. Kept apart from the counters and added to them only
 * once the attempt's transaction committed, so a rolled-back and retried batch is
 * counted once.
 */
export class BatchTally {
  readonly applied = new Map<string, number>();
  readonly ignored = new Map<string, number>();
  /** `type` + NUL + `reason` → count. */
  readonly deadLettered = new Map<string, number>();
  redelivered = 0;
  /** Newest CloudEvents time (canonical UTC text, which sorts chronologically) among the applied events. */
  newestEventTime = '';

  addApplied(type: string, count = 1): void {
    this.applied.set(type, (this.applied.get(type) ?? 0) + count);
  }

  addIgnored(reason: string, count = 1): void {
    this.ignored.set(reason, (this.ignored.get(reason) ?? 0) + count);
  }

  /** `type` only when it is one of the contract's (a producer-chosen string would make label values unbounded). */
  addDeadLetter(type: string | undefined, reason: string): void {
    const key = `${type !== undefined && isEventType(type) ? type : 'unknown'}\0${reason}`;
    this.deadLettered.set(key, (this.deadLettered.get(key) ?? 0) + 1);
  }

  noteEventTime(time: string): void {
    if (time > this.newestEventTime) this.newestEventTime = time;
  }
}

/**
 * Applied and dead-lettered counts of the last `windowMs`, in `bucketMs` slots
 * filled as batches commit. The web page's pipeline panel reads these through
 * GET /status, so a count covers the stated window whether or not a page was
 * open; it starts from zero when the process starts (the window says so).
 */
export class RecentCounts {
  readonly startedAt: number;
  private readonly slots = new Map<number, { applied: number; deadLettered: number }>();

  constructor(
    readonly windowMs = 15 * 60_000,
    readonly bucketMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  add(applied: number, deadLettered: number): void {
    if (applied === 0 && deadLettered === 0) return;
    const slot = Math.floor(this.now() / this.bucketMs);
    const counts = this.slots.get(slot) ?? { applied: 0, deadLettered: 0 };
    counts.applied += applied;
    counts.deadLettered += deadLettered;
    this.slots.set(slot, counts);
    this.prune(slot);
  }

  /** Sums over the slots of the last `overMs` (at most the window); `from` is where the count starts: the window's start, or the process's when younger. */
  sum(overMs = this.windowMs): { applied: number; deadLettered: number; from: number; to: number } {
    const to = this.now();
    const current = Math.floor(to / this.bucketMs);
    const first = current - Math.ceil(Math.min(overMs, this.windowMs) / this.bucketMs) + 1;
    this.prune(current);
    let applied = 0;
    let deadLettered = 0;
    for (const [slot, counts] of this.slots) {
      if (slot < first) continue;
      applied += counts.applied;
      deadLettered += counts.deadLettered;
    }
    return { applied, deadLettered, from: Math.max(this.startedAt, first * this.bucketMs), to };
  }

  private prune(current: number): void {
    const oldest = current - Math.ceil(this.windowMs / this.bucketMs) + 1;
    for (const slot of this.slots.keys()) if (slot < oldest) this.slots.delete(slot);
  }
}

export type { BatchTotals, CountSeries, IngestCounts } from '@app/contracts';

export interface PartitionLagSample {
  topic: string;
  partition: number;
  lag: bigint;
}

/** Every metric the ingest app exports; names follow Prometheus conventions. */
export class IngestMetrics {
  readonly registry = new Registry();

  readonly consumed = new Counter({
    name: 'ingest_events_consumed_total',
    help: 'Kafka messages received by the ingest consumer, before deduplication',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly applied = new Counter({
    name: 'ingest_events_applied_total',
    help: 'Events applied to the read model (each distinct event at most once)',
    labelNames: ['topic', 'type'] as const,
    registers: [this.registry],
  });

  readonly deadLettered = new Counter({
    name: 'ingest_events_dead_lettered_total',
    help: 'Messages dead-lettered, by source topic, event type (`unknown` when not a contract type) and reason',
    labelNames: ['topic', 'type', 'reason'] as const,
    registers: [this.registry],
  });

  readonly ignored = new Counter({
    name: 'ingest_events_ignored_total',
    help: 'Valid events that changed nothing (unknown artifact ids, stale snapshots, duplicates)',
    labelNames: ['topic', 'reason'] as const,
    registers: [this.registry],
  });

  readonly skippedSeen = new Counter({
    name: 'ingest_messages_redelivered_total',
    help: 'Messages skipped because the stored checkpoint had already passed them',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'ingest_batch_size_messages',
    help: 'Messages per applied batch',
    labelNames: ['topic'] as const,
    buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000, 50000],
    registers: [this.registry],
  });

  readonly batchDuration = new Histogram({
    name: 'ingest_batch_duration_seconds',
    help: 'Time to apply one batch, transaction included',
    labelNames: ['topic'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly lag = new Gauge({
    name: 'ingest_consumer_lag_messages',
    help: 'High-water mark minus stored checkpoint, per topic-partition (refreshed on scrape)',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });

  readonly freshness = new Gauge({
    name: 'ingest_projection_freshness_seconds',
    help: 'How far the read model may be behind, per topic-partition: 0 when caught up, else now minus the CloudEvents time of the newest event this instance applied from it (refreshed on scrape)',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });

  readonly lastEventTime = new Gauge({
    name: 'ingest_last_applied_event_timestamp_seconds',
    help: 'CloudEvents time of the newest applied event, as a Unix timestamp',
    registers: [this.registry],
  });

  readonly rebalances = new Counter({
    name: 'ingest_rebalances_total',
    help: 'Consumer group joins (initial join and every rebalance)',
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: 'ingest_transaction_retries_total',
    help: 'Batch transactions retried after a transient database or broker error',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly fenced = new Counter({
    name: 'ingest_batches_fenced_total',
    help: 'Batches rolled back because another instance had moved the checkpoint',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  /** Windowed counts for GET /status (the Prometheus counters above are process-lifetime totals). */
  readonly recent: RecentCounts;

  /** With the topics: every label value known in advance starts at 0 (see startAtZero). */
  constructor(topics?: TopicNames, now: () => number = Date.now) {
    collectDefaultMetrics({ register: this.registry });
    this.recent = new RecentCounts(15 * 60_000, 10_000, now);
    if (topics) this.startAtZero(topics);
  }

  /**
   * Creates the series of every label combination that can occur, at 0, so that
   * panels and alerts (increase, rate) see 0 rather than no data before the first
   * such event. Dead letters: a type is only known from a decodable envelope.
   */
  private startAtZero(topics: TopicNames): void {
    const streams = [
      { topic: topics.artifacts, own: ARTIFACT_EVENT_TYPES, other: RUN_EVENT_TYPES },
      { topic: topics.runs, own: RUN_EVENT_TYPES, other: ARTIFACT_EVENT_TYPES },
    ];
    for (const { topic, own, other } of streams) {
      for (const counter of [this.consumed, this.skippedSeen, this.retries, this.fenced]) counter.inc({ topic }, 0);
      for (const histogram of [this.batchSize, this.batchDuration]) histogram.zero({ topic });
      for (const type of own) this.applied.inc({ topic, type }, 0);
      for (const reason of IGNORE_REASONS) this.ignored.inc({ topic, reason }, 0);
      for (const reason of ['invalid_json', 'not_cloudevent', 'unknown_type']) this.deadLettered.inc({ topic, type: 'unknown', reason }, 0);
      for (const type of own) for (const reason of ['invalid_payload', 'rejected_by_database']) this.deadLettered.inc({ topic, type, reason }, 0);
      for (const type of other) this.deadLettered.inc({ topic, type, reason: 'wrong_topic' }, 0);
    }
  }

  /** Every series of the event counters (with topics given to the constructor, all known label sets from 0). */
  async counts(): Promise<IngestCounts> {
    const series = async (counter: Counter<string>) => (await counter.get()).values.map((v) => ({ ...v.labels, count: v.value }));
    return {
      consumed: await series(this.consumed),
      applied: await series(this.applied),
      ignored: await series(this.ignored),
      dead_lettered: await series(this.deadLettered),
      redelivered: await series(this.skippedSeen),
      retries: await series(this.retries),
      fenced: await series(this.fenced),
    };
  }

  /** Per topic, from the batch histograms (with topics given to the constructor, every topic from 0). */
  async batchTotals(): Promise<BatchTotals[]> {
    const sums = async (histogram: Histogram<string>) => {
      const byTopic = new Map<string, { count: number; sum: number }>();
      for (const v of (await histogram.get()).values) {
        const kind = v.metricName?.endsWith('_count') ? 'count' : v.metricName?.endsWith('_sum') ? 'sum' : undefined;
        if (!kind) continue;
        const topic = String(v.labels.topic);
        byTopic.set(topic, { count: 0, sum: 0, ...byTopic.get(topic), [kind]: v.value });
      }
      return byTopic;
    };
    const [durations, sizes] = [await sums(this.batchDuration), await sums(this.batchSize)];
    return [...durations].map(([topic, d]) => ({ topic, batches: d.count, messages: sizes.get(topic)?.sum ?? 0, seconds: d.sum }));
  }

  /** Adds a committed batch attempt to the counters. */
  recordBatch(topic: string, partition: number, tally: BatchTally): void {
    for (const [type, count] of tally.applied) this.applied.inc({ topic, type }, count);
    for (const [reason, count] of tally.ignored) this.ignored.inc({ topic, reason }, count);
    for (const [key, count] of tally.deadLettered) {
      const [type, reason] = key.split('\0') as [string, string];
      this.deadLettered.inc({ topic, type, reason }, count);
    }
    let applied = 0;
    let deadLettered = 0;
    for (const count of tally.applied.values()) applied += count;
    for (const count of tally.deadLettered.values()) deadLettered += count;
    this.recent.add(applied, deadLettered);
    if (tally.redelivered > 0) this.skippedSeen.inc({ topic }, tally.redelivered);
    if (tally.newestEventTime) this.noteEventTime(topic, partition, new Date(tally.newestEventTime));
  }

  noteEventTime(topic: string, partition: number, time: Date): void {
    const seconds = time.getTime() / 1000;
    if (!Number.isFinite(seconds)) return;
    const key = `${topic}:${partition}`;
    if (seconds > (this.newestByPartition.get(key) ?? -Infinity)) this.newestByPartition.set(key, seconds);
    if (seconds > (this.lastEventSeconds ?? -Infinity)) {
      this.lastEventSeconds = seconds;
      this.lastEventTime.set(seconds);
    }
  }

  /** After a rebalance: forget partitions this instance no longer owns, so it does not report their freshness from stale knowledge. */
  keepPartitions(assignment: Record<string, number[]>): void {
    const owned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => `${topic}:${p}`)));
    for (const key of this.newestByPartition.keys()) if (!owned.has(key)) this.newestByPartition.delete(key);
  }

  /**
   * Sets the lag gauge of every partition and its freshness: 0 where the
   * checkpoint is at the high-water mark; else, where this instance has applied
   * an event of that partition, now minus that event's time (an upper bound of
   * how stale the read model is for it); else no value (another instance owns it,
   * or nothing was applied yet).
   */
  refreshLag(partitions: PartitionLagSample[], now = Date.now()): void {
    this.freshness.reset();
    this.lastFreshness.clear();
    for (const p of partitions) {
      const labels = { topic: p.topic, partition: String(p.partition) };
      this.lag.set(labels, Number(p.lag));
      const newest = this.newestByPartition.get(`${p.topic}:${p.partition}`);
      const key = `${p.topic}:${p.partition}`;
      if (p.lag === 0n) this.lastFreshness.set(key, 0);
      else if (newest !== undefined) this.lastFreshness.set(key, Math.max(0, now / 1000 - newest));
      const freshness = this.lastFreshness.get(key);
      if (freshness !== undefined) this.freshness.set(labels, freshness);
    }
  }

  /** Freshness per `topic:partition` as last set by refreshLag (absent: unknown). */
  freshnessOf(topic: string, partition: number): number | undefined {
    return this.lastFreshness.get(`${topic}:${partition}`);
  }

  private readonly lastFreshness = new Map<string, number>();
  private lastEventSeconds?: number;
  private readonly newestByPartition = new Map<string, number>();
}
