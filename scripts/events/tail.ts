import { randomUUID } from 'node:crypto';
import { dlqTopic } from '@app/contracts';
import { CliEnv, CliError, parseArgs, resolveTopics } from './cli';
import { describe, describeJson } from './describe';
import { connect, createKafka, requireTopics } from './kafka';

export const TAIL_USAGE = 'events tail [--dlq] [--topic artifacts|runs|<name>] [--from-beginning] [--max N] [--idle-exit SECONDS] [--json]';

export function dlqTopics(topics: string[]): string[] {
  return topics.map((t) => (t.endsWith('.dlq') ? t : dlqTopic(t)));
}

/**
 * Follows topics with a throw-away consumer group that commits nothing, so it
 * never disturbs the ingest app's group. Ends on Ctrl-C, after `--max` messages,
 * or after `--idle-exit` seconds without one (counted from the group join).
 */
export async function tailCommand(argv: string[], env: CliEnv, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  const { positional, options } = parseArgs(argv, { dlq: 'flag', topic: 'string', 'from-beginning': 'flag', max: 'number', 'idle-exit': 'number', json: 'flag' });
  if (positional.length > 0) throw new CliError(`usage: ${TAIL_USAGE}`, 2);
  const base = resolveTopics(env, options.topic as string | undefined);
  const topics = options.dlq ? dlqTopics(base) : base;
  const max = options.max as number | undefined;
  const idleSeconds = options['idle-exit'] as number | undefined;
  const json = options.json === true;

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
    await connect(consumer, env);
    consumer.on(consumer.events.GROUP_JOIN, restartIdle);
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) {
        io.stderr.write(`events: tail stopped: ${event.payload.error.message}\n`);
        finish();
      }
    });
    await consumer.subscribe({ topics, fromBeginning: options['from-beginning'] === true });
    io.stderr.write(`following ${topics.join(', ')} from ${options['from-beginning'] ? 'the beginning' : 'now'}\n`);
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        if (finished) return;
        const view = { topic, partition, offset: message.offset, timestamp: message.timestamp, key: message.key ?? null, value: message.value ?? null, headers: (message.headers ?? {}) };
        io.stdout.write(`${json ? JSON.stringify(describeJson(view)) : describe(view)}\n`);
        count++;
        if (max !== undefined && count >= max) finish();
        else restartIdle();
      },
    });
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
