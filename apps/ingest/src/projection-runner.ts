import { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { advanceCheckpoint, inTransaction, lockCheckpoint, readCheckpoints, Sql, sqlOf } from '@app/persistence';
import { decodeMessage, DecodedEvent, dlqTopic } from '@app/contracts';
import { projectBatch } from '@app/projections';
import { IngestMetrics } from './ingest.metrics';
import { BatchControl, InboundBatch, InboundMessage, KafkaAdapter, OutboundMessage } from './kafka/kafka.adapter';

export interface ProjectionRunnerOptions {
  dataSource: DataSource;
  kafka: KafkaAdapter;
  metrics: IngestMetrics;
  logger: Logger;
  groupId: string;
  artifactTopic: string;
  runTopic: string;
}

/** Another instance moved the checkpoint since this batch started: it owns the partition now. */
class FencedError extends Error {}

const MAX_BACKOFF_MS = 10_000;
const CHUNK = 5_000;

type Outcome = { kind: 'applied'; last: string } | { kind: 'seek'; offset: bigint };

/**
 * Applies each Kafka batch in one PostgreSQL transaction: skip what the stored
 * checkpoint has seen, apply, dead-letter the bad, compare-and-set the
 * checkpoint, commit; only then tell Kafka (its committed offset is a lag hint).
 */
export class ProjectionRunner {
  private consuming = false;
  private stopping = false;
  private inFlight = new Set<Promise<void>>();
  // Partitions we already sought back to their stored checkpoint; a second gap
  // at the same place means the log no longer holds those offsets (retention).
  private readonly soughtTo = new Map<string, bigint>();

  constructor(private readonly options: ProjectionRunnerOptions) {}

  isConsuming(): boolean {
    return this.consuming;
  }

  async start(topics: string[]): Promise<void> {
    const { kafka, groupId, metrics, logger } = this.options;
    await kafka.startConsumer(groupId, topics, {
      onBatch: (batch, control) => this.track(this.handleBatch(batch, control)),
      onAssigned: async (assignment, seek) => {
        const stored = await readCheckpoints(sqlOf(this.options.dataSource), groupId);
        for (const [topic, partitions] of Object.entries(assignment)) {
          for (const partition of partitions) {
            const offset = stored.get(`${topic}:${partition}`);
            if (offset !== undefined) seek(topic, partition, offset.toString());
          }
        }
        logger.info({ assignment }, 'partitions assigned');
      },
      onCrash: (error) => {
        this.consuming = false;
        logger.error({ err: error }, 'consumer crashed');
      },
      onRebalance: () => metrics.rebalances.inc(),
    });
    this.consuming = true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.options.kafka.disconnect();
    await Promise.allSettled([...this.inFlight]);
    this.consuming = false;
  }

  private async track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    try {
      await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async handleBatch(batch: InboundBatch, control: BatchControl): Promise<void> {
    const { metrics, logger } = this.options;
    if (batch.messages.length === 0) return;
    metrics.consumed.inc({ topic: batch.topic }, batch.messages.length);
    for (let attempt = 0; !this.stopping && control.shouldContinue(); attempt++) {
      const started = process.hrtime.bigint();
      try {
        const outcome = await this.applyOnce(batch, control);
        if (outcome.kind === 'seek') {
          control.seek(outcome.offset.toString());
          return;
        }
        control.resolve(outcome.last);
        metrics.batchSize.observe({ topic: batch.topic }, batch.messages.length);
        metrics.batchDuration.observe({ topic: batch.topic }, Number(process.hrtime.bigint() - started) / 1e9);
        logger.debug({ topic: batch.topic, partition: batch.partition, messages: batch.messages.length, last: outcome.last }, 'batch applied');
        return;
      } catch (error) {
        if (error instanceof FencedError) {
          metrics.fenced.inc({ topic: batch.topic });
          logger.warn({ topic: batch.topic, partition: batch.partition }, 'checkpoint moved by another instance; batch rolled back');
          const stored = (await readCheckpoints(sqlOf(this.options.dataSource), this.options.groupId).catch(() => undefined))?.get(`${batch.topic}:${batch.partition}`);
          if (stored !== undefined && control.shouldContinue()) control.seek(stored.toString());
          return;
        }
        // Database or broker trouble: retried with backoff, never dead-lettered.
        metrics.retries.inc({ topic: batch.topic });
        const delay = Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(attempt, 6));
        logger.warn({ err: error, topic: batch.topic, partition: batch.partition, attempt, delayMs: delay }, 'batch failed; retrying');
        await this.pause(delay, control);
      }
    }
  }

  private async pause(ms: number, control: BatchControl): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && !this.stopping && control.shouldContinue()) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, until - Date.now())));
      await control.heartbeat().catch(() => undefined);
    }
  }

  private async applyOnce(batch: InboundBatch, control: BatchControl): Promise<Outcome> {
    const { dataSource, groupId, metrics } = this.options;
    const key = { groupId, topic: batch.topic, partition: batch.partition };
    const partitionKey = `${batch.topic}:${batch.partition}`;
    const last = batch.messages[batch.messages.length - 1]!.offset;
    return inTransaction(dataSource, async (sql) => {
      const stored = await lockCheckpoint(sql, key);
      const fresh = stored === null ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= stored);
      metrics.skippedSeen.inc({ topic: batch.topic }, batch.messages.length - fresh.length);
      if (fresh.length === 0) return { kind: 'applied', last };
      const first = BigInt(fresh[0]!.offset);
      if (stored !== null && first > stored && this.soughtTo.get(partitionKey) !== stored) {
        // Kafka handed us a position past our checkpoint (e.g. the group's offsets were
        // moved forward): go back rather than skip events.
        this.soughtTo.set(partitionKey, stored);
        return { kind: 'seek', offset: stored };
      }
      this.soughtTo.delete(partitionKey);
      await this.applyMessages(sql, batch, fresh, control);
      if (!(await advanceCheckpoint(sql, key, stored, BigInt(last) + 1n))) throw new FencedError();
      return { kind: 'applied', last };
    });
  }

  private async applyMessages(sql: Sql, batch: InboundBatch, messages: InboundMessage[], control: BatchControl): Promise<void> {
    const { metrics, kafka } = this.options;
    const expected = batch.topic === this.options.artifactTopic ? 'artifacts' : 'runs';
    const good: DecodedEvent[] = [];
    const dead: OutboundMessage[] = [];
    for (const message of messages) {
      const decoded = decodeMessage(message, expected);
      if (decoded.ok) {
        good.push({ ...decoded.event, position: { topic: batch.topic, partition: batch.partition, offset: message.offset } });
      } else {
        dead.push(deadLetter(message, batch, decoded.reason, decoded.message));
        metrics.deadLettered.inc({ topic: batch.topic, reason: decoded.reason });
      }
    }
    for (let i = 0; i < good.length; i += CHUNK) {
      if (!control.shouldContinue()) throw new Error('partition revoked or consumer stopping mid-batch');
      const stats = await projectBatch(sql, good.slice(i, i + CHUNK));
      for (const [type, count] of Object.entries(stats.applied)) metrics.applied.inc({ topic: batch.topic, type }, count);
      for (const [reason, count] of Object.entries(stats.ignored)) metrics.ignored.inc({ topic: batch.topic, reason }, count);
      await control.heartbeat();
    }
    // Published before the checkpoint commits: a crash in between repeats a dead letter, never loses one.
    await kafka.produce(dlqTopic(batch.topic), dead);
    const newest = good.reduce((max, e) => (e.time > max ? e.time : max), '');
    if (newest) metrics.noteEventTime(new Date(newest));
  }
}

function deadLetter(message: InboundMessage, batch: InboundBatch, reason: string, error: string): OutboundMessage {
  const headers: Record<string, Buffer | string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value[value.length - 1]! : value;
  }
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...headers,
      'dlq-reason': reason,
      'dlq-error': error.slice(0, 2000),
      'dlq-source-topic': batch.topic,
      'dlq-source-partition': String(batch.partition),
      'dlq-source-offset': message.offset,
      'dlq-failed-at': new Date().toISOString(),
    },
  };
}
