import { randomUUID } from 'node:crypto';
import { dlqTopic, normaliseTimestamp } from '@app/contracts';
import { CliEnv, CliError, parseArgs, ParsedArgs, resolveTopics } from './cli';
import { describe, describeJsonLine, messageType, MessageView, renderValue } from './describe';
import { Admin, connect, createKafka, requireTopics } from './kafka';

export const TAIL_USAGE =
  'events tail [--dlq] [--topic artifacts|runs|<name>] [--offset N|earliest|latest | --since TIME | --from-beginning] [--partition N] [--key KEY] [--type TYPE] [--value] [--json] [--max N] [--idle-exit SECONDS]';

export const TAIL_HELP = `${TAIL_USAGE}
  Follows the topics (both by default; --dlq: their dead-letter topics) with a throw-away consumer group.
  One line per message: event time, Kafka timestamp, topic[partition]@offset, type, key, id (dead letters: reason, source, error).
  --value            also print the value under each line: pretty JSON, else the bytes with \\n, \\t, \\xNN escapes
  --json             one JSON object per line, value included (publish reads such lines back)
  --offset N         start every partition (or --partition's) at offset N; earliest / latest: the first / next message
  --since TIME       start at the first message with a Kafka timestamp at or after TIME: RFC 3339, or an age such as 90s, 15m, 2h, 1d
  --from-beginning   same as --offset earliest
  --partition N      only this partition
  --key KEY          only messages with this key
  --type TYPE        only events of this CloudEvents type
  --max N            stop after N matching messages
  --idle-exit S      stop after S seconds without any message
`;

export function dlqTopics(topics: string[]): string[] {
  return topics.map((t) => (t.endsWith('.dlq') ? t : dlqTopic(t)));
}

/** Where each partition starts: Kafka's reset policy (earliest / latest), an offset, or a time. */
export type StartAt = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: bigint } | { kind: 'time'; ms: number };

const AGE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an RFC 3339 time, or an age (`15m`) counted back from `now`. */
export function parseSince(text: string, now = Date.now()): number {
  const age = AGE.exec(text);
  if (age) return now - Number(age[1]) * UNIT_MS[age[2]!]!;
  const canonical = normaliseTimestamp(text);
  if (canonical === null) throw new CliError(`--since must be an RFC 3339 time (2026-11-28T10:00:00Z) or an age (90s, 15m, 2h, 1d), got "${text}"`, 2);
  return Date.parse(canonical);
}

/** `--offset`, `--since` and `--from-beginning` choose the start; at most one of them. */
export function parseStart(options: ParsedArgs['options'], now = Date.now()): StartAt {
  const given = (['offset', 'since', 'from-beginning'] as const).filter((o) => options[o] !== undefined);
  if (given.length > 1) throw new CliError(`--${given.join(' and --')} cannot be combined`, 2);
  if (options.since !== undefined) return { kind: 'time', ms: parseSince(String(options.since), now) };
  if (options['from-beginning']) return { kind: 'earliest' };
  if (options.offset === undefined || options.offset === 'latest') return { kind: 'latest' };
  if (options.offset === 'earliest') return { kind: 'earliest' };
  if (!/^\d{1,19}$/.test(String(options.offset))) throw new CliError(`--offset must be a non-negative integer, earliest or latest, got "${String(options.offset)}"`, 2);
  return { kind: 'offset', offset: BigInt(String(options.offset)) };
}

export interface TailFilter {
  key?: string;
  type?: string;
  partition?: number;
}

export function matches(message: MessageView, filter: TailFilter): boolean {
  if (filter.partition !== undefined && message.partition !== filter.partition) return false;
  if (filter.key !== undefined && (message.key === null || message.key.toString('utf8') !== filter.key)) return false;
  if (filter.type !== undefined && messageType(message) !== filter.type) return false;
  return true;
}

/** The text `tail` prints for one message: its line, and with `--value` the value indented under it. */
export function formatTailMessage(message: MessageView, options: { json: boolean; value: boolean }): string {
  if (options.json) return `${describeJsonLine(message)}\n`;
  const line = `${describe(message)}\n`;
  if (!options.value) return line;
  return `${line}${renderValue(message.value)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
}

interface Position {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Where an offset or a time start puts each partition, for `seek` once the
 * group has joined. (kafkajs drops what a fetch brings for a partition with a
 * seek pending, so nothing from the reset position slips through; its
 * `admin.setOffsets` would run a consumer of its own for ~5 s per topic.)
 */
async function startPositions(admin: Admin, topics: string[], start: StartAt, partition: number | undefined): Promise<Position[]> {
  if (start.kind !== 'offset' && start.kind !== 'time') return [];
  const positions: Position[] = [];
  for (const topic of topics) {
    const partitions =
      start.kind === 'offset'
        ? (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: start.offset.toString() }))
        : await admin.fetchTopicOffsetsByTimestamp(topic, start.ms);
    const chosen = partitions.filter((p) => partition === undefined || p.partition === partition);
    if (partition !== undefined && chosen.length === 0) throw new CliError(`${topic} has no partition ${partition}`);
    positions.push(...chosen.map((p) => ({ topic, partition: p.partition, offset: p.offset })));
  }
  return positions;
}

function describeStart(start: StartAt): string {
  switch (start.kind) {
    case 'earliest':
      return 'the beginning';
    case 'latest':
      return 'now';
    case 'offset':
      return `offset ${start.offset}`;
    case 'time':
      return `${new Date(start.ms).toISOString()} (Kafka timestamps)`;
  }
}

/**
 * Follows topics with a throw-away consumer group that commits nothing, so it
 * never disturbs the ingest app's group. Ends on Ctrl-C, after `--max` matching
 * messages, or after `--idle-exit` seconds without any message (counted from the
 * group join).
 */
export async function tailCommand(argv: string[], env: CliEnv, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  const { positional, options } = parseArgs(argv, {
    dlq: 'flag',
    topic: 'string',
    'from-beginning': 'flag',
    offset: 'string',
    since: 'string',
    partition: 'number',
    key: 'string',
    type: 'string',
    value: 'flag',
    max: 'number',
    'idle-exit': 'number',
    json: 'flag',
  });
  if (positional.length > 0) throw new CliError(`usage: ${TAIL_USAGE}`, 2);
  const start = parseStart(options);
  const partition = options.partition as number | undefined;
  if (partition !== undefined && !Number.isInteger(partition)) throw new CliError('--partition must be an integer', 2);
  const filter: TailFilter = { key: options.key as string | undefined, type: options.type as string | undefined, partition };
  const base = resolveTopics(env, options.topic as string | undefined);
  const topics = options.dlq ? dlqTopics(base) : base;
  const max = options.max as number | undefined;
  const idleSeconds = options['idle-exit'] as number | undefined;
  const format = { json: options.json === true, value: options.value === true };

  const kafka = createKafka(env, 'events-cli-tail');
  const admin = await connect(kafka.admin(), env);
  const groupId = `events-cli-tail-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250, sessionTimeout: 10_000, heartbeatInterval: 1_000, allowAutoTopicCreation: false });
  let finished = false;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = () => {
      finished = true;
      resolve();
    };
  });
  let idleTimer: NodeJS.Timeout | undefined;
  const restartIdle = () => {
    if (idleSeconds === undefined || finished) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(finish, idleSeconds * 1000);
  };
  const onSignal = () => finish();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let count = 0;
  try {
    await requireTopics(admin, topics);
    const positions = await startPositions(admin, topics, start, partition);
    await connect(consumer, env);
    consumer.on(consumer.events.GROUP_JOIN, restartIdle);
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) {
        io.stderr.write(`events: tail stopped: ${event.payload.error.message}\n`);
        finish();
      }
    });
    // Partitions without a start position (all of them for earliest/latest) follow Kafka's reset policy.
    await consumer.subscribe({ topics, fromBeginning: start.kind === 'earliest' });
    io.stderr.write(`following ${topics.join(', ')}${partition === undefined ? '' : ` partition ${partition}`} from ${describeStart(start)}\n`);
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition: p, message }) => {
        if (finished) return;
        restartIdle();
        const view: MessageView = { topic, partition: p, offset: message.offset, timestamp: message.timestamp, key: message.key ?? null, value: message.value ?? null, headers: (message.headers ?? {}) };
        if (!matches(view, filter)) return;
        io.stdout.write(formatTailMessage(view, format));
        count++;
        if (max !== undefined && count >= max) finish();
      },
    });
    for (const position of positions) consumer.seek(position);
    if (max === 0) finish();
    await done;
  } finally {
    clearTimeout(idleTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  return 0;
}
