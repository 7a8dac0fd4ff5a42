import type { Logger } from 'pino';
import { advanceCheckpoint, DataSource, inTransaction, lockCheckpoint, readCheckpoint, readCheckpoints, Sql, sqlOf } from '@app/persistence';
import { DeadLetterReason, decodeMessage, DecodedEvent, dlqTopic } from '@app/contracts';
import { projectBatch } from '@app/projections';
import { DeadLetterLog } from './dead-letter-log';
import { BatchTally, IngestMetrics } from './ingest.metrics';
import { BatchControl, InboundBatch, InboundMessage, KafkaAdapter, MessageTooLargeError, OutboundMessage } from './kafka/kafka.adapter';
import { BatchRef, TestHooks, TestHooksConfig } from './test-hooks';

export interface ProjectionRunnerOptions {
  dataSource: DataSource;
  kafka: KafkaAdapter;
  metrics: IngestMetrics;
  logger: Logger;
  groupId: string;
  artifactTopic: string;
  runTopic: string;
  /** False for a replay (the rebuild): its dead letters were published when the messages were first consumed. Default true. */
  publishDeadLetters?: boolean;
  testHooks?: TestHooksConfig;
  /** Batch transactions that run at the same time (batches handed over together share one). Default 1. */
  partitionConcurrency?: number;
}

/**
 * How many batches kafkajs hands over at once. A fetch brings one batch per partition that has
 * messages, and the next fetch waits until all of them are done: handing them over together lets
 * them share one transaction instead of queueing for `partitionConcurrency` transactions each.
 */
const FETCH_WORKERS = 64;

/**
 * A batch of this many messages or more takes a transaction of its own, without waiting for the
 * rest of its fetch. Sharing is for the small batches of a steady stream (one transaction instead
 * of a queue of them); a backlog's big batches gain nothing from it and would lose the
 * transactions that run side by side (`partitionConcurrency`): catching up on 116k events took
 * 7,768-8,105 events/s shared against 10,174-10,261 before (bench/README.md).
 */
const SHARED_BATCH_LIMIT = 500;

/** A batch to apply; `deadLettered` holds its source offsets already dead-lettered (a retried attempt does not send them again). */
interface Item {
  batch: InboundBatch;
  control: BatchControl;
  deadLettered: Set<string>;
}

/** A batch waiting to share a transaction with the others of its fetch. */
interface Waiting extends Item {
  /** The outcome, or undefined: the batch takes the one-batch path (alone, or the shared transaction failed). */
  done(outcome: Outcome | undefined): void;
}

/** At most `free` pieces of work at a time; the rest wait in turn. */
class Lanes {
  private readonly queue: (() => void)[] = [];
  constructor(private free: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** Another instance moved the checkpoint since this batch started: it owns the partition now. */
class FencedError extends Error {
  /** In a shared transaction: the batch whose checkpoint moved. */
  constructor(readonly batch?: InboundBatch) {
    super('checkpoint moved by another instance');
  }
}

const MAX_BACKOFF_MS = 10_000;
/** How often the checkpoints are compared with what this instance committed (see auditCheckpoints). */
const AUDIT_INTERVAL_MS = 5_000;
const CHUNK = 5_000;
// A dead-letter send is one record batch per partition; keep it well under the broker's default 1 MB limit.
const DLQ_SEND_BYTES = 512 * 1024;
const DLQ_TRUNCATED_BYTES = 64 * 1024;
// Set per batch transaction. A stopped instance (GC pause, SIGSTOP, frozen VM) that holds
// the checkpoint lock must not stall the partition's new owner: its session is ended by
// PostgreSQL, and waiters give up, retry with backoff and keep heartbeating meanwhile.
const TRANSACTION_SETTINGS = {
  text: "SELECT set_config('lock_timeout', '5s', true), set_config('idle_in_transaction_session_timeout', '15s', true)",
  values: [],
};

type Outcome = { kind: 'applied'; last: string; tally: BatchTally } | { kind: 'seek'; offset: bigint } | { kind: 'fenced' };

interface Decoded {
  event: DecodedEvent;
  message: InboundMessage;
}

/**
 * SQLSTATE classes that reject the data of an event, not the attempt: 22 (data
 * exception) and 54 (program limit exceeded, e.g. a name too long for its btree
 * index). Retrying cannot help; such an event is isolated and dead-lettered.
 */
function rejectedByDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

/**
 * Applies each Kafka batch: skip what the stored checkpoint has seen, decode and
 * dead-letter the bad, then in one PostgreSQL transaction lock the checkpoint,
 * apply, compare-and-set it, commit; only then tell Kafka (its committed offset
 * is a lag hint).
 */
export class ProjectionRunner {
  private consuming = false;
  private stopping = false;
  private inFlight = new Set<Promise<void>>();
  // Partitions we already sought back to their stored checkpoint; a second gap
  // at the same place means the log no longer holds those offsets (retention).
  private readonly soughtTo = new Map<string, bigint>();
  private readonly hooks: TestHooks;
  private readonly deadLetterLog: DeadLetterLog;
  // The next offset this instance committed per assigned partition (`topic:partition`).
  private readonly committed = new Map<string, bigint>();
  private audit?: NodeJS.Timeout;
  private auditing = false;
  private readonly lanes: Lanes;
  private readonly waiting: Waiting[] = [];
  private gathering = false;

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.hooks = new TestHooks(options.testHooks);
    this.deadLetterLog = new DeadLetterLog(options.logger);
    this.lanes = new Lanes(options.partitionConcurrency ?? 1);
  }

  isConsuming(): boolean {
    return this.consuming;
  }

  async start(topics: string[]): Promise<void> {
    const { kafka, groupId, metrics, logger } = this.options;
    await kafka.startConsumer(groupId, topics, {
      onBatch: (batch, control) => this.track(this.handleBatch(batch, control)),
      onAssigned: async (assignment, seek) => {
        metrics.keepPartitions(assignment);
        this.committed.clear();
        logger.info({ assignment }, 'partitions assigned');
        // Only a shortcut: every batch is checked against the stored checkpoint anyway.
        const stored = await readCheckpoints(sqlOf(this.options.dataSource), groupId).catch((error: Error) => {
          logger.warn({ err: error }, 'cannot read checkpoints after a rebalance; batches will seek back when needed');
          return new Map<string, bigint>();
        });
        for (const [topic, partitions] of Object.entries(assignment)) {
          for (const partition of partitions) {
            const offset = stored.get(`${topic}:${partition}`);
            if (offset !== undefined) seek(topic, partition, offset.toString());
          }
        }
      },
      onCrash: (error) => {
        this.consuming = false;
        logger.error({ err: error }, 'consumer crashed');
      },
      onRebalance: () => metrics.rebalances.inc(),
    }, { concurrency: FETCH_WORKERS });
    this.consuming = true;
    this.audit = setInterval(() => void this.auditCheckpoints(), AUDIT_INTERVAL_MS);
    this.audit.unref();
  }

  /**
   * Reads a partition again from its stored checkpoint when that is behind what this
   * instance committed there. An asynchronous failover to a standby loses the old primary's
   * last commits, rows and checkpoint alike: the events must be applied again, and a
   * partition that gets no new message would never show the gap to a batch.
   */
  private async auditCheckpoints(): Promise<void> {
    if (this.auditing || this.stopping || this.committed.size === 0) return;
    this.auditing = true;
    try {
      const before = new Map(this.committed);
      const stored = await readCheckpoints(sqlOf(this.options.dataSource), this.options.groupId);
      for (const [key, next] of before) {
        const checkpoint = stored.get(key) ?? 0n;
        // A batch committed meanwhile is no loss: the next round compares again.
        if (checkpoint >= next || this.committed.get(key) !== next) continue;
        const at = key.lastIndexOf(':');
        const topic = key.slice(0, at);
        const partition = Number(key.slice(at + 1));
        this.committed.set(key, checkpoint);
        this.options.logger.warn({ topic, partition, checkpoint: checkpoint.toString(), committed: next.toString() }, 'checkpoint behind what this instance committed (lost with a failed-over database); reading the partition again from it');
        this.options.kafka.seek(topic, partition, checkpoint.toString());
      }
    } catch (error) {
      this.options.logger.debug({ err: error }, 'cannot compare the checkpoints now; next round');
    } finally {
      this.auditing = false;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.audit);
    await this.options.kafka.disconnect();
    await Promise.allSettled([...this.inFlight]);
    this.deadLetterLog.flush();
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
    let isolate = false;
    // Source offsets of this batch already dead-lettered: a retried attempt does not send them again.
    const deadLettered = new Set<string>();
    const shared = batch.messages.length < SHARED_BATCH_LIMIT ? await this.together(batch, control, deadLettered) : undefined;
    if (shared !== undefined) return this.finish(batch, control, shared, shared.started);
    for (let attempt = 0; !this.stopping && control.shouldContinue(); attempt++) {
      const started = process.hrtime.bigint();
      try {
        const [outcome] = await this.applyBatches([{ batch, control, deadLettered }], isolate);
        return await this.finish(batch, control, outcome as Outcome, started);
      } catch (error) {
        if (error instanceof FencedError) return this.finish(batch, control, { kind: 'fenced' }, started);
        if (rejectedByDatabase(error) && !isolate) {
          // Some event of the batch is refused by PostgreSQL itself: retry at once, isolating it.
          isolate = true;
          logger.warn({ err: error, topic: batch.topic, partition: batch.partition }, 'PostgreSQL rejected an event of the batch; isolating it');
          continue;
        }
        // Database or broker trouble: retried with backoff, never dead-lettered.
        metrics.retries.inc({ topic: batch.topic });
        const delay = Math.min(MAX_BACKOFF_MS, 200 * 2 ** Math.min(attempt, 6));
        logger.warn({ err: error, topic: batch.topic, partition: batch.partition, attempt, delayMs: delay }, 'batch failed; retrying');
        await this.pause(delay, control);
      }
    }
  }

  /** After a batch's transaction: the seek it asked for, or its commit told to Kafka and counted. */
  private async finish(batch: InboundBatch, control: BatchControl, outcome: Outcome, started: bigint): Promise<void> {
    const { metrics, logger } = this.options;
    if (outcome.kind === 'seek') {
      control.seek(outcome.offset.toString());
      return;
    }
    if (outcome.kind === 'fenced') {
      metrics.fenced.inc({ topic: batch.topic });
      logger.warn({ topic: batch.topic, partition: batch.partition }, 'checkpoint moved by another instance; batch rolled back');
      const key = { groupId: this.options.groupId, topic: batch.topic, partition: batch.partition };
      const stored = await readCheckpoint(sqlOf(this.options.dataSource), key).catch(() => null);
      if (stored !== null && control.shouldContinue()) control.seek(stored.toString());
      return;
    }
    await this.hooks.point('after-commit', refOf(batch));
    const next = BigInt(outcome.last) + 1n;
    const partitionKey = `${batch.topic}:${batch.partition}`;
    if (next > (this.committed.get(partitionKey) ?? 0n)) this.committed.set(partitionKey, next);
    control.resolve(outcome.last);
    metrics.recordBatch(batch.topic, batch.partition, outcome.tally);
    metrics.batchSize.observe({ topic: batch.topic }, batch.messages.length);
    metrics.batchDuration.observe({ topic: batch.topic }, Number(process.hrtime.bigint() - started) / 1e9);
    logger.debug({ topic: batch.topic, partition: batch.partition, messages: batch.messages.length, last: outcome.last }, 'batch applied');
  }

  /**
   * Waits for the batches handed over in the same turn (the rest of the fetch) and applies them
   * together in one transaction. Undefined when the batch must take the one-batch path: it came
   * alone, needs no transaction or a seek, or the shared transaction failed (nothing of it stays,
   * and each batch's own path retries, fences, isolates as it always does).
   */
  private together(batch: InboundBatch, control: BatchControl, deadLettered: Set<string>): Promise<(Outcome & { started: bigint }) | undefined> {
    return new Promise((resolve) => {
      const started = process.hrtime.bigint();
      this.waiting.push({ batch, control, deadLettered, done: (outcome) => resolve(outcome && { ...outcome, started }) });
      if (this.gathering) return;
      this.gathering = true;
      setImmediate(() => {
        this.gathering = false;
        void this.applyTogether(this.waiting.splice(0));
      });
    });
  }

  private async applyTogether(group: Waiting[]): Promise<void> {
    if (group.length < 2) return group.forEach((item) => item.done(undefined));
    let outcomes: (Outcome | undefined)[];
    try {
      outcomes = await this.applyBatches(group, false);
    } catch (error) {
      // The batch whose checkpoint moved is fenced as on its own path; the others take their own path.
      this.options.logger.debug({ err: error, batches: group.length }, 'batches could not share a transaction; applying each on its own');
      const fenced = error instanceof FencedError ? error.batch : undefined;
      return group.forEach((item) => item.done(item.batch === fenced ? { kind: 'fenced' } : undefined));
    }
    group.forEach((item, i) => item.done(outcomes[i]));
  }

  private async pause(ms: number, control: BatchControl): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && !this.stopping && control.shouldContinue()) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, until - Date.now())));
      await control.heartbeat().catch(() => undefined);
    }
  }

  /**
   * Applies batches (one, or those of a fetch) in one transaction: each skips what its stored
   * checkpoint has seen and dead-letters what does not decode; then, holding the checkpoints'
   * locks, the events are applied (run events first: their writer takes the exclusive lock that
   * the artifacts' writer shares) and each checkpoint compared and set. Per batch: its outcome,
   * or undefined when it must take the one-batch path (in a group: nothing to apply in a shared
   * transaction, or the consumer is stopping). Throws FencedError naming the batch whose
   * checkpoint moved. `isolate` (one batch only) applies under savepoints and dead-letters the
   * events PostgreSQL refuses.
   */
  private async applyBatches(items: Item[], isolate: boolean): Promise<(Outcome | undefined)[]> {
    const { dataSource, groupId, artifactTopic, runTopic } = this.options;
    type Ready = Item & { index: number; stored: bigint | null; fresh: InboundMessage[]; good: Decoded[]; dead: OutboundMessage[]; rejected: OutboundMessage[]; tally: BatchTally };
    const alone = items.length === 1;
    const outcomes: (Outcome | undefined)[] = items.map(() => undefined);
    const ready: Ready[] = [];
    // Outside the transaction, holding no lock: an instance stalled here blocks no one,
    // and the compare-and-set below fences it if the partition moved on meanwhile.
    const stored = await readCheckpoints(sqlOf(dataSource), groupId);
    for (const [index, item] of items.entries()) {
      const { batch } = item;
      const partitionKey = `${batch.topic}:${batch.partition}`;
      const checkpoint = stored.get(partitionKey) ?? null;
      const fresh = freshOf(batch, checkpoint);
      const tally = new BatchTally();
      tally.redelivered = batch.messages.length - fresh.length;
      if (!alone && (fresh.length === 0 || !item.control.shouldContinue())) continue;
      if (fresh.length === 0) {
        outcomes[index] = { kind: 'applied', last: lastOffset(batch), tally };
        continue;
      }
      if (checkpoint !== null && BigInt(fresh[0]!.offset) > checkpoint && this.soughtTo.get(partitionKey) !== checkpoint) {
        // Kafka handed us a position past our checkpoint (e.g. the group's offsets were
        // moved forward): go back rather than skip events (on the one-batch path).
        if (!alone) continue;
        this.soughtTo.set(partitionKey, checkpoint);
        outcomes[index] = { kind: 'seek', offset: checkpoint };
        return outcomes;
      }
      this.soughtTo.delete(partitionKey);
      ready.push({ ...item, index, stored: checkpoint, fresh, good: [], dead: [], rejected: [], tally });
    }
    if (ready.length === 0) return outcomes;
    for (const r of ready) {
      ({ good: r.good, dead: r.dead } = this.decode(r.batch, r.fresh, r.tally));
      // Published before the checkpoint commits: a crash in between repeats a dead letter, never loses one.
      await this.publishDeadLetters(r.batch.topic, r.dead, r.deadLettered);
    }
    await Promise.all(ready.map((r) => this.hooks.stall(refOf(r.batch))));
    const keyOf = (r: Ready) => ({ groupId, topic: r.batch.topic, partition: r.batch.partition });
    await this.lanes.run(() =>
      inTransaction(dataSource, async (sql) => {
        await sql.query(TRANSACTION_SETTINGS);
        for (const r of ready) if ((await lockCheckpoint(sql, keyOf(r))) !== r.stored) throw new FencedError(r.batch);
        for (const topic of [runTopic, artifactTopic]) {
          const of = ready.filter((r) => r.batch.topic === topic);
          if (of.length === 0) continue;
          if (isolate) for (const r of of) r.rejected = await this.applyIsolating(sql, r.batch, r.good, r.control, r.tally);
          else await this.apply(sql, of.flatMap((r) => r.good), of.map((r) => r.control), of[0]!.tally);
          for (const r of of) for (const d of r.good) r.tally.noteEventTime(d.event.time);
        }
        for (const r of ready) await this.publishDeadLetters(r.batch.topic, r.rejected, r.deadLettered);
        for (const r of ready) await this.hooks.point('mid-transaction', refOf(r.batch));
        for (const r of ready) {
          const counts = { messages: r.fresh.length, deadLettered: r.dead.length + r.rejected.length };
          if (!(await advanceCheckpoint(sql, keyOf(r), r.stored, BigInt(lastOffset(r.batch)) + 1n, counts))) throw new FencedError(r.batch);
        }
        for (const r of ready) await this.hooks.point('before-commit', refOf(r.batch));
      }),
    );
    for (const r of ready) outcomes[r.index] = { kind: 'applied', last: lastOffset(r.batch), tally: r.tally };
    return outcomes;
  }

  private decode(batch: InboundBatch, messages: InboundMessage[], tally: BatchTally): { good: Decoded[]; dead: OutboundMessage[] } {
    const expected = batch.topic === this.options.artifactTopic ? 'artifacts' : 'runs';
    const good: Decoded[] = [];
    const dead: OutboundMessage[] = [];
    for (const message of messages) {
      const decoded = decodeMessage(message, expected);
      if (decoded.ok) {
        const event = decoded.event as DecodedEvent;
        event.position = { topic: batch.topic, partition: batch.partition, offset: message.offset };
        good.push({ event, message });
      } else {
        dead.push(deadLetter(message, batch, decoded.reason, decoded.message));
        tally.addDeadLetter(decoded.type, decoded.reason);
      }
    }
    return { good, dead };
  }

  /** The events of one topic's batches, in chunks; one tally takes the counts (they are per topic, event times per batch). */
  private async apply(sql: Sql, good: Decoded[], controls: BatchControl[], tally: BatchTally): Promise<void> {
    for (let i = 0; i < good.length; i += CHUNK) {
      if (!controls.every((c) => c.shouldContinue())) throw new Error('partition revoked or consumer stopping mid-batch');
      const chunk = good.slice(i, i + CHUNK).map((d) => d.event);
      addStats(tally, await projectBatch(sql, chunk));
      await controls[0]!.heartbeat();
    }
  }

  /**
   * Applies the batch in halves under savepoints until every event PostgreSQL
   * refuses is alone, and returns those as dead letters. Consecutive sub-batches
   * end in the same tables as the whole batch (the planner's batch-split property).
   */
  private async applyIsolating(sql: Sql, batch: InboundBatch, events: Decoded[], control: BatchControl, tally: BatchTally): Promise<OutboundMessage[]> {
    if (events.length === 0) return [];
    if (!control.shouldContinue()) throw new Error('partition revoked or consumer stopping mid-batch');
    await sql.query({ text: 'SAVEPOINT isolate', values: [] });
    try {
      const stats = await projectBatch(
        sql,
        events.map((d) => d.event),
      );
      await sql.query({ text: 'RELEASE SAVEPOINT isolate', values: [] });
      addStats(tally, stats);
      for (const d of events) tally.noteEventTime(d.event.time);
      return [];
    } catch (error) {
      if (!rejectedByDatabase(error)) throw error;
      await sql.query({ text: 'ROLLBACK TO SAVEPOINT isolate', values: [] });
      await sql.query({ text: 'RELEASE SAVEPOINT isolate', values: [] });
      if (events.length === 1) {
        const { event, message } = events[0]!;
        tally.addDeadLetter(event.type, 'rejected_by_database');
        return [deadLetter(message, batch, 'rejected_by_database', (error as Error).message)];
      }
      await control.heartbeat();
      const half = Math.ceil(events.length / 2);
      return [
        ...(await this.applyIsolating(sql, batch, events.slice(0, half), control, tally)),
        ...(await this.applyIsolating(sql, batch, events.slice(half), control, tally)),
      ];
    }
  }

  /** Sends dead letters in record batches the broker accepts; one it still refuses as too large goes with its value cut (the source offset is in its headers). */
  private async publishDeadLetters(sourceTopic: string, all: OutboundMessage[], sent: Set<string>): Promise<void> {
    const dead = all.filter((m) => !sent.has(String(m.headers['dlq-source-offset'])));
    if (dead.length === 0 || this.options.publishDeadLetters === false) return;
    const topic = dlqTopic(sourceTopic);
    // Logged once it is on the dead-letter topic (a retried batch does not send, nor log, it again).
    const markSent = (m: OutboundMessage) => {
      sent.add(String(m.headers['dlq-source-offset']));
      const h = m.headers;
      this.deadLetterLog.note({ reason: String(h['dlq-reason']), topic: sourceTopic, partition: Number(String(h['dlq-source-partition'])), offset: String(h['dlq-source-offset']) }, topic);
    };
    let chunk: OutboundMessage[] = [];
    let bytes = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      const sending = chunk;
      chunk = [];
      bytes = 0;
      try {
        await this.options.kafka.produce(topic, sending);
        for (const m of sending) markSent(m);
      } catch (error) {
        if (!(error instanceof MessageTooLargeError)) throw error;
        for (const message of sending) {
          if (sending.length > 1) await this.options.kafka.produce(topic, [message]).catch((e: unknown) => this.produceTruncated(topic, message, e));
          else await this.produceTruncated(topic, message, error);
          markSent(message);
        }
      }
    };
    for (const message of dead) {
      const size = sizeOf(message);
      if (chunk.length > 0 && bytes + size > DLQ_SEND_BYTES) await flush();
      chunk.push(message);
      bytes += size;
    }
    await flush();
  }

  private async produceTruncated(topic: string, message: OutboundMessage, error: unknown): Promise<void> {
    if (!(error instanceof MessageTooLargeError)) throw error;
    const headers: Record<string, Buffer | string> = {};
    for (const [name, value] of Object.entries(message.headers)) if (name.startsWith('dlq-')) headers[name] = value;
    headers['dlq-truncated'] = `value cut from ${byteLength(message.value)} to at most ${DLQ_TRUNCATED_BYTES} bytes; the original is at the source offset`;
    await this.options.kafka.produce(topic, [{ key: cut(message.key, 1024), value: cut(message.value, DLQ_TRUNCATED_BYTES), headers }]);
  }
}

/** The batch's messages at or past the stored checkpoint (all of them when there is none). */
function freshOf(batch: InboundBatch, checkpoint: bigint | null): InboundMessage[] {
  return checkpoint === null ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= checkpoint);
}

function lastOffset(batch: InboundBatch): string {
  return batch.messages[batch.messages.length - 1]!.offset;
}

function refOf(batch: InboundBatch): BatchRef {
  return { topic: batch.topic, partition: batch.partition, first: batch.messages[0]?.offset ?? '', last: batch.messages[batch.messages.length - 1]?.offset ?? '' };
}

function addStats(tally: BatchTally, stats: { applied: Record<string, number>; ignored: Record<string, number> }): void {
  for (const [type, count] of Object.entries(stats.applied)) tally.addApplied(type, count);
  for (const [reason, count] of Object.entries(stats.ignored)) tally.addIgnored(reason, count);
}

function byteLength(value: Buffer | string | null): number {
  return value === null ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

function sizeOf(message: OutboundMessage): number {
  let size = byteLength(message.key) + byteLength(message.value) + 64;
  for (const [name, value] of Object.entries(message.headers)) size += name.length + byteLength(value);
  return size;
}

function cut(value: Buffer | string | null, max: number): Buffer | string | null {
  if (value === null || byteLength(value) <= max) return value;
  return (typeof value === 'string' ? Buffer.from(value) : value).subarray(0, max);
}

function deadLetter(message: InboundMessage, batch: InboundBatch, reason: DeadLetterReason, error: string): OutboundMessage {
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
