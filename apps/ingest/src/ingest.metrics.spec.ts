import type { Metric } from 'prom-client';
import { BatchTally, IngestMetrics, RecentCounts } from './ingest.metrics';

async function value(metrics: IngestMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const found = metric?.values.filter((v) => Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l));
  return found && found.length > 0 ? found.reduce((sum, v) => sum + v.value, 0) : undefined;
}

describe('IngestMetrics: names follow the Prometheus naming rules', () => {
  const metrics = new IngestMetrics();
  const own = metrics.registry.getMetricsAsArray().filter((m) => (m as unknown as { name: string }).name.startsWith('ingest_'));

  it('exports the metrics of issue #7', () => {
    expect(own.map((m) => (m as unknown as { name: string }).name).sort()).toEqual(
      [
        'ingest_batch_duration_seconds',
        'ingest_batch_size_messages',
        'ingest_batches_fenced_total',
        'ingest_consumer_lag_messages',
        'ingest_events_applied_total',
        'ingest_events_consumed_total',
        'ingest_events_dead_lettered_total',
        'ingest_events_ignored_total',
        'ingest_last_applied_event_timestamp_seconds',
        'ingest_messages_redelivered_total',
        'ingest_projection_freshness_seconds',
        'ingest_rebalances_total',
        'ingest_transaction_retries_total',
      ].sort(),
    );
  });

  it.each(own.map((m) => [(m as unknown as { name: string }).name, m] as const))('%s', async (name, metric) => {
    const { type } = await (metric as unknown as Metric).get();
    expect(name).toMatch(/^ingest_[a-z][a-z0-9_]*[a-z0-9]$/);
    if (String(type) === 'counter') expect(name).toMatch(/_total$/);
    else expect(name).toMatch(/_(seconds|messages|bytes)$/);
    for (const label of (metric as unknown as { labelNames: string[] }).labelNames) {
      expect(label).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(['le', 'quantile', 'job', 'instance']).not.toContain(label);
    }
  });

  it('includes the Node process metrics', async () => {
    const names = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']));
  });
});

describe('IngestMetrics: counting committed batches', () => {
  it('adds a tally to the counters; a dead letter whose type is not the contract is labelled unknown', async () => {
    const metrics = new IngestMetrics();
    const tally = new BatchTally();
    tally.addApplied('prefect.artifact.created', 2);
    tally.addApplied('prefect.artifact.created');
    tally.addIgnored('unknown_id');
    tally.addDeadLetter('prefect.artifact.created', 'invalid_payload');
    tally.addDeadLetter('acme.custom.v9', 'unknown_type');
    tally.addDeadLetter(undefined, 'invalid_json');
    tally.redelivered = 4;
    metrics.recordBatch('a', 0, tally);
    expect(await value(metrics, 'ingest_events_applied_total', { topic: 'a', type: 'prefect.artifact.created' })).toBe(3);
    expect(await value(metrics, 'ingest_events_ignored_total', { reason: 'unknown_id' })).toBe(1);
    expect(await value(metrics, 'ingest_events_dead_lettered_total', { type: 'prefect.artifact.created', reason: 'invalid_payload' })).toBe(1);
    expect(await value(metrics, 'ingest_events_dead_lettered_total', { type: 'unknown' })).toBe(2);
    expect(await value(metrics, 'ingest_messages_redelivered_total', { topic: 'a' })).toBe(4);
  });

  it('a tally that is never recorded (rolled back) counts nothing', async () => {
    const metrics = new IngestMetrics();
    new BatchTally().addApplied('prefect.flow.upserted');
    expect(await value(metrics, 'ingest_events_applied_total')).toBeUndefined();
  });
});

describe('IngestMetrics: batch totals for GET /status', () => {
  it('gives each topic its batches, messages and seconds from the histograms, from 0', async () => {
    const metrics = new IngestMetrics({ artifacts: 'a', runs: 'r' });
    metrics.batchSize.observe({ topic: 'a' }, 100);
    metrics.batchDuration.observe({ topic: 'a' }, 0.25);
    metrics.batchSize.observe({ topic: 'a' }, 20);
    metrics.batchDuration.observe({ topic: 'a' }, 0.5);
    expect(await metrics.batchTotals()).toEqual([
      { topic: 'a', batches: 2, messages: 120, seconds: 0.75 },
      { topic: 'r', batches: 0, messages: 0, seconds: 0 },
    ]);
  });
});

describe('IngestMetrics: lag and freshness per topic-partition', () => {
  const NOW = Date.parse('2026-11-28T12:00:00Z');

  it('freshness is 0 where caught up, now minus the newest applied event where behind, absent where unknown', async () => {
    const metrics = new IngestMetrics();
    const tally = new BatchTally();
    tally.noteEventTime('2026-11-28T11:58:00.000000Z');
    tally.noteEventTime('2026-11-28T11:59:00.000000Z');
    tally.noteEventTime('2026-11-28T11:57:00.000000Z');
    metrics.recordBatch('a', 1, tally);
    metrics.refreshLag(
      [
        { topic: 'a', partition: 0, lag: 0n },
        { topic: 'a', partition: 1, lag: 5n },
        { topic: 'a', partition: 2, lag: 7n },
      ],
      NOW,
    );
    expect(await value(metrics, 'ingest_consumer_lag_messages', { partition: '1' })).toBe(5);
    expect(await value(metrics, 'ingest_projection_freshness_seconds', { partition: '0' })).toBe(0);
    expect(await value(metrics, 'ingest_projection_freshness_seconds', { partition: '1' })).toBe(60);
    expect(await value(metrics, 'ingest_projection_freshness_seconds', { partition: '2' })).toBeUndefined();
    expect(await value(metrics, 'ingest_last_applied_event_timestamp_seconds')).toBe(Date.parse('2026-11-28T11:59:00Z') / 1000);
  });

  it('forgets partitions revoked by a rebalance', async () => {
    const metrics = new IngestMetrics();
    metrics.noteEventTime('a', 1, new Date(NOW - 10_000));
    metrics.keepPartitions({ a: [0], b: [1] });
    metrics.refreshLag([{ topic: 'a', partition: 1, lag: 3n }], NOW);
    expect(await value(metrics, 'ingest_projection_freshness_seconds', { partition: '1' })).toBeUndefined();
  });
});

describe('IngestMetrics: labelled counters start at 0', () => {
  it('creates every known topic, type and reason series at 0, and only possible combinations', async () => {
    const metrics = new IngestMetrics({ artifacts: 'a', runs: 'r' });
    const series = async (name: string) => ((await metrics.registry.getSingleMetric(name)?.get())?.values ?? []).map((v) => ({ ...(v.labels as Record<string, string>), value: v.value }));
    expect(await series('ingest_events_consumed_total')).toEqual([{ topic: 'a', value: 0 }, { topic: 'r', value: 0 }]);
    expect(await series('ingest_events_applied_total')).toContainEqual({ topic: 'a', type: 'prefect.artifact.created', value: 0 });
    expect(await series('ingest_events_applied_total')).not.toContainEqual(expect.objectContaining({ topic: 'a', type: 'prefect.flow.upserted' }));
    expect(await series('ingest_events_ignored_total')).toContainEqual({ topic: 'r', reason: 'superseded', value: 0 });
    const dead = await series('ingest_events_dead_lettered_total');
    expect(dead).toContainEqual({ topic: 'a', type: 'unknown', reason: 'invalid_json', value: 0 });
    expect(dead).toContainEqual({ topic: 'a', type: 'prefect.artifact.created', reason: 'invalid_payload', value: 0 });
    expect(dead).toContainEqual({ topic: 'a', type: 'prefect.flow.deleted', reason: 'wrong_topic', value: 0 });
    expect(dead).not.toContainEqual(expect.objectContaining({ topic: 'a', type: 'prefect.artifact.created', reason: 'wrong_topic' }));
    expect(dead.every((s) => s.value === 0)).toBe(true);
    expect(await value(metrics, 'ingest_transaction_retries_total', { topic: 'r' })).toBe(0);
    expect(await value(metrics, 'ingest_batch_size_messages', { topic: 'a' })).toBe(0);
    // A real increment adds to the zeroed series.
    const tally = new BatchTally();
    tally.addDeadLetter(undefined, 'invalid_json');
    metrics.recordBatch('a', 0, tally);
    expect(await value(metrics, 'ingest_events_dead_lettered_total', { topic: 'a', type: 'unknown', reason: 'invalid_json' })).toBe(1);
  });
});

describe('RecentCounts: what the pipeline panel shows, kept as batches commit', () => {
  it('counts committed batches over the window, drops what is older, and states where the count starts', () => {
    let now = Date.parse('2026-12-01T08:00:00Z');
    const recent = new RecentCounts(15 * 60_000, 10_000, () => now);
    recent.add(5, 1);
    now += 60_000;
    recent.add(2, 2);
    expect(recent.sum()).toEqual({ applied: 7, deadLettered: 3, from: Date.parse('2026-12-01T08:00:00Z'), to: now });
    expect(recent.sum(30_000)).toMatchObject({ applied: 2, deadLettered: 2 });
    // 80 s later nothing fell out: the window is 15 minutes, not the time a reader happened to look.
    now += 80_000;
    expect(recent.sum()).toMatchObject({ applied: 7, deadLettered: 3 });
    now = Date.parse('2026-12-01T08:15:05Z');
    const past = recent.sum();
    expect(past).toMatchObject({ applied: 2, deadLettered: 2 });
    expect(past.from).toBe(Date.parse('2026-12-01T08:00:10Z'));
  });

  it('is fed by recordBatch with the applied and dead-lettered counts of the tally', () => {
    const metrics = new IngestMetrics();
    const tally = new BatchTally();
    tally.addApplied('prefect.artifact.created', 4);
    tally.addApplied('prefect.flow.upserted');
    tally.addDeadLetter(undefined, 'invalid_json');
    metrics.recordBatch('a', 0, tally);
    expect(metrics.recent.sum()).toMatchObject({ applied: 5, deadLettered: 1 });
  });
});
