import { randomUUID } from 'node:crypto';
import { encodeEvent, EventPublisher } from '@app/contracts';
import type { AppProcess } from '../../infra/local/apps';
import { metric, samples, scrape } from './ops-support';
import { IngestFixture } from '../support/ingest-fixture';
import { waitForStatus } from '../../infra/local/apps';

// The ingest app's /metrics after a known sequence of events (issue #7): counts by
// topic, type and reason, lag per partition going to 0, freshness, batches, process.

const PARTITIONS = 3;
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

// Jest reads testTimeout globally, not per project: e2e specs set their own.
jest.setTimeout(120_000);

describe('ops: ingest metrics after a known sequence of events', () => {
  let world: IngestFixture;
  let ingest: AppProcess;
  let publisher: EventPublisher;

  beforeAll(async () => {
    world = await IngestFixture.create('ops-metrics', { partitions: PARTITIONS });
    ingest = await world.start({ KAFKA_TOPIC_PARTITIONS: String(PARTITIONS) });
    // The kafkajs Producer passed as it is: the producer library types it structurally.
    publisher = new EventPublisher(world.kafka.producer, { topics: world.topics, source: '/ops/metrics-test' });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('starts labelled counters at 0 for their known label values, before any event', async () => {
    const text = await scrape(ingest);
    const A = world.topics.artifacts;
    const R = world.topics.runs;
    expect(metric(text, 'ingest_events_dead_lettered_total', { topic: A, type: 'unknown', reason: 'invalid_json' })).toBe(0);
    expect(metric(text, 'ingest_events_dead_lettered_total', { topic: R, type: 'prefect.flow-run.upserted', reason: 'invalid_payload' })).toBe(0);
    expect(metric(text, 'ingest_events_applied_total', { topic: A, type: 'prefect.artifact.created' })).toBe(0);
    expect(metric(text, 'ingest_events_ignored_total', { topic: A, reason: 'stale' })).toBe(0);
    expect(metric(text, 'ingest_events_consumed_total', { topic: R })).toBe(0);
    expect(metric(text, 'ingest_transaction_retries_total', { topic: A })).toBe(0);
  });

  it('reports lag per partition while the read model cannot commit, and 0 once it has', async () => {
    // Holding a lock on the artifact table stops every artifact batch before its
    // commit, so the stored checkpoints (and thus the lag) cannot move meanwhile.
    const runner = world.db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query('LOCK TABLE artifact IN ACCESS EXCLUSIVE MODE');
      const created = minutesAgo(10);
      for (const key of ['lag-a', 'lag-b', 'lag-c', 'lag-d', 'lag-e']) await publisher.artifactCreated({ id: randomUUID(), key, created });
      const text = await scrape(ingest);
      const lag = samples(text, 'ingest_consumer_lag_messages').filter((s) => s.labels.topic === world.topics.artifacts);
      expect(lag).toHaveLength(PARTITIONS);
      expect(lag.reduce((sum, s) => sum + s.value, 0)).toBe(5);
      const ready = await fetch(`${ingest.url}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { caught_up: boolean }).caught_up).toBe(false);
      // Nothing of these partitions applied yet: no freshness can be claimed for them.
      for (const s of lag.filter((l) => l.value > 0)) {
        expect(metric(text, 'ingest_projection_freshness_seconds', { topic: world.topics.artifacts, partition: s.labels.partition! })).toBeUndefined();
      }
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    await waitForStatus(ingest, '/ready', 200);
    const text = await scrape(ingest);
    const all = samples(text, 'ingest_consumer_lag_messages');
    expect(all).toHaveLength(2 * PARTITIONS);
    expect(all.every((s) => s.value === 0)).toBe(true);
    const freshness = samples(text, 'ingest_projection_freshness_seconds');
    expect(freshness).toHaveLength(2 * PARTITIONS);
    expect(freshness.every((s) => s.value === 0)).toBe(true);
  });

  it('counts consumed, applied, ignored and dead-lettered events by topic, type and reason', async () => {
    const before = await scrape(ingest);
    const flow = randomUUID();
    const newest = minutesAgo(1);
    await publisher.flowUpserted({ id: flow, name: 'etl', created: minutesAgo(5), updated: minutesAgo(5) });
    await publisher.flowRunUpserted({ id: randomUUID(), flow_id: flow, name: 'brave-otter', state_type: 'COMPLETED', updated: newest }, { mode: 'binary' });
    await publisher.artifactCreated({ id: randomUUID(), key: 'daily', created: minutesAgo(3) });
    await publisher.artifactCreated({ id: randomUUID(), created: minutesAgo(3) });
    await publisher.artifactUpdated({ id: randomUUID(), key: 'daily', updated: minutesAgo(2), description: 'never created' });
    // Poison on the artifacts topic, one per reason.
    const badKey = encodeEvent('prefect.artifact.created', { id: randomUUID(), key: 'Not A Key', created: minutesAgo(2) });
    const wrongTopic = encodeEvent('prefect.flow.deleted', { id: flow, updated: minutesAgo(2) });
    const unknownType = encodeEvent('acme.custom.v9', { id: randomUUID() });
    await world.kafka.send(world.topics.artifacts, [{ key: 'x', value: '{"specversion":' }, { key: 'y', value: '[]' }, badKey, wrongTopic, unknownType]);
    await waitForStatus(ingest, '/ready', 200);

    const after = await scrape(ingest);
    const delta = (name: string, labels: Record<string, string>) => (metric(after, name, labels) ?? 0) - (metric(before, name, labels) ?? 0);
    const A = world.topics.artifacts;
    const R = world.topics.runs;
    expect(delta('ingest_events_consumed_total', { topic: A })).toBe(8);
    expect(delta('ingest_events_consumed_total', { topic: R })).toBe(2);
    expect(delta('ingest_events_applied_total', { topic: A, type: 'prefect.artifact.created' })).toBe(2);
    expect(delta('ingest_events_applied_total', { topic: R, type: 'prefect.flow.upserted' })).toBe(1);
    expect(delta('ingest_events_applied_total', { topic: R, type: 'prefect.flow-run.upserted' })).toBe(1);
    expect(delta('ingest_events_ignored_total', { topic: A, reason: 'unknown_id' })).toBe(1);
    expect(delta('ingest_events_dead_lettered_total', { topic: A, type: 'unknown', reason: 'invalid_json' })).toBe(1);
    expect(delta('ingest_events_dead_lettered_total', { topic: A, type: 'unknown', reason: 'not_cloudevent' })).toBe(1);
    expect(delta('ingest_events_dead_lettered_total', { topic: A, type: 'prefect.artifact.created', reason: 'invalid_payload' })).toBe(1);
    expect(delta('ingest_events_dead_lettered_total', { topic: A, type: 'prefect.flow.deleted', reason: 'wrong_topic' })).toBe(1);
    expect(delta('ingest_events_dead_lettered_total', { topic: A, type: 'unknown', reason: 'unknown_type' })).toBe(1);
    expect(delta('ingest_events_dead_lettered_total', { topic: R })).toBe(0);

    // Batches: every consumed message went through an observed batch; durations observed as often.
    const consumed = metric(after, 'ingest_events_consumed_total') ?? 0;
    expect(metric(after, 'ingest_batch_size_messages_sum')).toBe(consumed);
    expect(metric(after, 'ingest_batch_duration_seconds_count')).toBe(metric(after, 'ingest_batch_size_messages_count'));
    expect(metric(after, 'ingest_batch_duration_seconds_bucket', { le: '+Inf' })).toBe(metric(after, 'ingest_batch_duration_seconds_count'));

    expect(metric(after, 'ingest_last_applied_event_timestamp_seconds')).toBeCloseTo(Date.parse(newest) / 1000, 3);
    expect(samples(after, 'ingest_consumer_lag_messages').every((s) => s.value === 0)).toBe(true);
    expect(samples(after, 'ingest_projection_freshness_seconds').every((s) => s.value === 0)).toBe(true);
  });

  it('exports rebalances, retries, fenced batches and the Node process metrics in Prometheus text format', async () => {
    const response = await fetch(`${ingest.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(metric(text, 'ingest_rebalances_total')).toBeGreaterThanOrEqual(1);
    for (const family of ['ingest_transaction_retries_total', 'ingest_batches_fenced_total', 'ingest_messages_redelivered_total']) {
      expect(text).toContain(`# TYPE ${family} counter`);
    }
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(metric(text, name)).toBeGreaterThanOrEqual(0);
    }
  });
});
