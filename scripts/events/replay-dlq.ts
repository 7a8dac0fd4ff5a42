import { randomUUID } from 'node:crypto';
import { DEAD_LETTER_REASONS } from '@app/contracts';
import { CliEnv, CliError, parseArgs, resolveTopics } from './cli';
import { describe, header, Headers } from './describe';
import { connect, createKafka, createProducer, Message, requireTopics } from './kafka';
import { dlqTopics } from './tail';

export const REPLAY_USAGE = 'events replay-dlq [--topic artifacts|runs|<name>] [--filter reason[,reason...]] [--force] [--dry-run]';

/**
 * Reasons that depend only on the message's bytes (and the database's limits):
 * replayed unchanged, such a dead letter is dead-lettered again. unknown_type and
 * wrong_topic depend on the ingest app's version and configuration, so replaying
 * them after an upgrade or a fix is the point.
 */
export const UNREPLAYABLE_REASONS: ReadonlySet<string> = new Set(['invalid_json', 'not_cloudevent', 'invalid_payload', 'rejected_by_database']);

export const REPLAY_HELP = `${REPLAY_USAGE}
  Re-publishes the dead letters present now to their source topic, with the original key, value and headers.
  --filter R[,R]  only these reasons: ${DEAD_LETTER_REASONS.join(', ')}
  --force         also replay ${[...UNREPLAYABLE_REASONS].join(', ')}: unchanged, they are only dead-lettered again
                  (to fix one: tail --dlq --json > f.ndjson, edit the value, publish f.ndjson)
  --dry-run       list what would be replayed, send nothing
`;

/** `--filter`: known reasons only; without `--force`, none that can only dead-letter again. */
export function parseReasonFilter(text: string | undefined, force: boolean): Set<string> | undefined {
  if (text === undefined) return undefined;
  const reasons = new Set(text.split(',').map((r) => r.trim()).filter((r) => r !== ''));
  const known: ReadonlySet<string> = new Set(DEAD_LETTER_REASONS);
  const unknown = [...reasons].filter((r) => !known.has(r));
  if (unknown.length > 0) throw new CliError(`unknown reason${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => JSON.stringify(r)).join(', ')} in --filter; valid reasons: ${DEAD_LETTER_REASONS.join(', ')}`, 2);
  if (reasons.size === 0) throw new CliError(`--filter needs at least one reason: ${DEAD_LETTER_REASONS.join(', ')}`, 2);
  const refused = [...reasons].filter((r) => UNREPLAYABLE_REASONS.has(r));
  if (refused.length > 0 && !force) {
    throw new CliError(
      `${refused.join(', ')} dead letters would only be dead-lettered again: fix them and publish them (tail --dlq --json, edit, publish), or pass --force to replay them unchanged`,
      2,
    );
  }
  return reasons;
}

const STALL_MS = 30_000;

/** What goes back to the source topic: the original key and value, the headers minus the dlq-* ones the ingest app added. */
export function replayMessage(key: Buffer | null, value: Buffer | null, headers: Headers): Message {
  const kept: Record<string, Buffer | string | (Buffer | string)[]> = {};
  for (const [name, v] of Object.entries(headers)) {
    if (v !== undefined && !name.toLowerCase().startsWith('dlq-')) kept[name] = v;
  }
  return { key, value, headers: kept };
}

export interface ReplayReport {
  read: number;
  replayed: Map<string, number>;
  skippedByFilter: Map<string, number>;
  /** Left alone without --force: reasons that can only dead-letter again. */
  skippedUnreplayable: Map<string, number>;
  skippedNoSource: number;
  /** Dead letters whose value the ingest app cut to fit the broker (`dlq-truncated`): the original is only at its source position. */
  skippedTruncated: string[];
}

export function formatReplay(report: ReplayReport, dlqs: string[], dryRun: boolean): string {
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const list = (m: Map<string, number>) => [...m].map(([k, n]) => `${k}: ${n}`).join(', ');
  const lines = [`read ${report.read} dead letter${report.read === 1 ? '' : 's'} from ${dlqs.join(', ')}`];
  lines.push(`${dryRun ? 'would replay' : 'replayed'} ${sum(report.replayed)}${report.replayed.size ? ` (${list(report.replayed)})` : ''}`);
  const skipped = sum(report.skippedByFilter) + sum(report.skippedUnreplayable) + report.skippedNoSource + report.skippedTruncated.length;
  if (skipped > 0) {
    const why = [];
    if (report.skippedByFilter.size) why.push(`reason not in --filter: ${list(report.skippedByFilter)}`);
    if (report.skippedUnreplayable.size) why.push(`would only be dead-lettered again: ${list(report.skippedUnreplayable)}; fix and publish them, or --force`);
    if (report.skippedNoSource) why.push(`no dlq-source-topic header: ${report.skippedNoSource}`);
    if (report.skippedTruncated.length) why.push(`value truncated, the original is at ${report.skippedTruncated.slice(0, 5).join(', ')}${report.skippedTruncated.length > 5 ? ', ...' : ''}`);
    lines.push(`skipped ${skipped} (${why.join('; ')})`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Re-publishes the dead letters present now (up to each partition's high-water
 * mark at start) to the topic named by their `dlq-source-topic` header, with the
 * original key, value and headers. Safe to repeat: the read model applies each
 * change at most once (artifact versions by id, snapshots by `updated`).
 */
export async function replayCommand(argv: string[], env: CliEnv, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  const { positional, options } = parseArgs(argv, { topic: 'string', filter: 'string', force: 'flag', 'dry-run': 'flag' });
  if (positional.length > 0) throw new CliError(`usage: ${REPLAY_USAGE}`, 2);
  const dlqs = dlqTopics(resolveTopics(env, options.topic as string | undefined));
  const force = options.force === true;
  const filter = parseReasonFilter(options.filter as string | undefined, force);
  const dryRun = options['dry-run'] === true;
  const report: ReplayReport = { read: 0, replayed: new Map(), skippedByFilter: new Map(), skippedUnreplayable: new Map(), skippedNoSource: 0, skippedTruncated: [] };

  const kafka = createKafka(env, 'events-cli-replay');
  const admin = await connect(kafka.admin(), env);
  const groupId = `events-cli-replay-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 10_000, heartbeatInterval: 1_000, allowAutoTopicCreation: false });
  const producer = dryRun ? undefined : createProducer(kafka);
  try {
    await requireTopics(admin, dlqs);
    // Replay what is there now; dead letters arriving meanwhile wait for the next run.
    const remaining = new Map<string, bigint>();
    for (const topic of dlqs) {
      for (const p of await admin.fetchTopicOffsets(topic)) if (BigInt(p.high) > BigInt(p.low)) remaining.set(`${topic}:${p.partition}`, BigInt(p.high));
    }
    if (remaining.size > 0) {
      if (producer) await connect(producer, env);
      await connect(consumer, env);
      await consumer.subscribe({ topics: dlqs, fromBeginning: true });
      let lastProgress = Date.now();
      let failure: Error | undefined;
      await new Promise<void>((resolve, reject) => {
        const stall = setInterval(() => {
          if (Date.now() - lastProgress > STALL_MS) reject(new CliError(`replay stalled: no dead letters read for ${STALL_MS / 1000} s (${remaining.size} partitions unfinished)`));
        }, 1_000);
        const settle = () => {
          clearInterval(stall);
          if (failure) reject(failure);
          else resolve();
        };
        consumer.on(consumer.events.CRASH, (event) => {
          if (!event.payload.restart) {
            failure = event.payload.error;
            settle();
          }
        });
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch, heartbeat, resolveOffset }) => {
              const key = `${batch.topic}:${batch.partition}`;
              const end = remaining.get(key);
              if (end === undefined) return;
              const outgoing = new Map<string, Message[]>();
              for (const message of batch.messages) {
                if (BigInt(message.offset) >= end) break;
                report.read++;
                const headers = message.headers ?? {};
                const reason = header(headers, 'dlq-reason') ?? '<none>';
                const source = header(headers, 'dlq-source-topic');
                if (filter && !filter.has(reason)) {
                  report.skippedByFilter.set(reason, (report.skippedByFilter.get(reason) ?? 0) + 1);
                } else if (!force && UNREPLAYABLE_REASONS.has(reason)) {
                  report.skippedUnreplayable.set(reason, (report.skippedUnreplayable.get(reason) ?? 0) + 1);
                } else if (!source) {
                  report.skippedNoSource++;
                } else if (header(headers, 'dlq-truncated') !== undefined) {
                  report.skippedTruncated.push(`${source}[${header(headers, 'dlq-source-partition') ?? '?'}]@${header(headers, 'dlq-source-offset') ?? '?'}`);
                } else {
                  if (dryRun) {
                    io.stdout.write(`${describe({ topic: batch.topic, partition: batch.partition, offset: message.offset, timestamp: message.timestamp, key: message.key ?? null, value: message.value ?? null, headers })} -> ${source}\n`);
                  }
                  const list = outgoing.get(source) ?? [];
                  list.push(replayMessage(message.key ?? null, message.value ?? null, headers));
                  outgoing.set(source, list);
                }
                resolveOffset(message.offset);
              }
              for (const [topic, messages] of outgoing) {
                if (producer) await producer.send({ topic, acks: -1, messages });
                report.replayed.set(topic, (report.replayed.get(topic) ?? 0) + messages.length);
              }
              await heartbeat();
              lastProgress = Date.now();
              const last = batch.messages[batch.messages.length - 1];
              if (last && BigInt(last.offset) >= end - 1n) remaining.delete(key);
              if (remaining.size === 0) settle();
            },
          })
          .catch((error: Error) => {
            failure = error;
            settle();
          });
      });
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  io.stdout.write(formatReplay(report, dlqs, dryRun));
  return 0;
}
