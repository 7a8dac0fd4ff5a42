import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

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
    help: 'Messages published to the dead-letter topic, by reason',
    labelNames: ['topic', 'reason'] as const,
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
    help: 'Now minus the CloudEvents time of the newest applied event',
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  noteEventTime(time: Date): void {
    const seconds = time.getTime() / 1000;
    if (seconds > (this.lastEventSeconds ?? -Infinity)) {
      this.lastEventSeconds = seconds;
      this.lastEventTime.set(seconds);
    }
  }

  refreshFreshness(now = Date.now()): void {
    if (this.lastEventSeconds !== undefined) this.freshness.set(Math.max(0, now / 1000 - this.lastEventSeconds));
  }

  private lastEventSeconds?: number;
}
