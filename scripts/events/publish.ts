import { randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import {
  buildEvent,
  BuiltEvent,
  CloudEventMode,
  encodeEvent,
  EventPublisher,
  InvalidEventError,
  isEventType,
  JsonSyntaxError,
  parseJson,
  TopicNames,
  topicFor,
} from '@app/contracts';
import { CliEnv, CliError, parseArgs } from './cli';
import { connect, createKafka, createProducer } from './kafka';
import { ProgressBar } from './progress';

// `publish <file.ndjson|->`: one event per line,
//   {"type": "prefect.artifact.created", "data": {...}, "id"?: "...", "source"?: "...", "time"?: "...", "subject"?: "...", "mode"?: "structured"|"binary"}
// validated by the producer library (the ingest app's own decoder), published to the
// configured topics with the contract's keys. Blank lines are skipped.

const LINE_FIELDS = new Set(['type', 'data', 'id', 'source', 'time', 'subject', 'mode']);
const BATCH = 1_000;
// Below the broker's default max.message.bytes (1 MB) for one partition's record batch.
const BATCH_BYTES = 512 * 1024;
const MAX_LISTED_REJECTIONS = 100;

export interface LineDefaults {
  topics: TopicNames;
  mode?: CloudEventMode;
  source?: string;
  /** false: only the line's shape is checked (to reproduce dead letters on purpose). */
  validate: boolean;
}

export type LineResult = { ok: true; event: BuiltEvent } | { ok: false; reason: string; message: string };

function lineError(message: string): LineResult {
  return { ok: false, reason: 'invalid_line', message };
}

/** Parses and builds one NDJSON line. `data` is kept lossless (`1.0` stays `1.0`, as Prefect would store it). */
export function parseLine(text: string, defaults: LineDefaults): LineResult {
  let root;
  try {
    root = parseJson(text);
  } catch (error) {
    return lineError(`not JSON: ${error instanceof JsonSyntaxError ? error.message : String(error)}`);
  }
  if (!(root instanceof Map)) return lineError('not a JSON object');
  for (const field of root.keys()) {
    if (!LINE_FIELDS.has(field)) return lineError(`unknown field ${JSON.stringify(field)} (a line has type, data, id, source, time, subject, mode)`);
  }
  const strings: Record<string, string | undefined> = {};
  for (const field of ['type', 'id', 'source', 'time', 'subject', 'mode']) {
    const value = root.get(field);
    if (value === undefined) continue;
    if (typeof value !== 'string') return lineError(`${field} must be a string`);
    strings[field] = value;
  }
  const type = strings.type;
  if (!type) return lineError('type is required');
  if (!root.has('data')) return lineError('data is required');
  const mode = (strings.mode ?? defaults.mode) as CloudEventMode | undefined;
  if (mode !== undefined && mode !== 'structured' && mode !== 'binary') return lineError(`mode must be "structured" or "binary", got ${JSON.stringify(mode)}`);
  const data = root.get('data');
  const options = { mode, id: strings.id, source: strings.source ?? defaults.source, time: strings.time, subject: strings.subject, topics: defaults.topics };
  if (!defaults.validate) return { ok: true, event: unvalidated(type, data, options) };
  try {
    return { ok: true, event: buildEvent(type, data, options) };
  } catch (error) {
    if (error instanceof InvalidEventError) return { ok: false, reason: error.reason, message: error.message };
    throw error;
  }
}

function unvalidated(type: string, data: unknown, options: { mode?: CloudEventMode; id?: string; source?: string; time?: string; subject?: string; topics: TopicNames }): BuiltEvent {
  const payload: unknown = data instanceof Map ? Object.fromEntries(data as Map<string, unknown>) : data;
  const id = options.id ?? randomUUID();
  const message = encodeEvent(type, payload, { ...options, id });
  // An unknown type goes where its name says, so that the ingest app dead-letters it as unknown_type.
  const topic = isEventType(type) ? topicFor(type, options.topics) : type.startsWith('prefect.artifact.') ? options.topics.artifacts : options.topics.runs;
  return { type: type as BuiltEvent['type'], id, topic, key: message.key === null ? null : message.key.toString(), message };
}

export interface PublishSummary {
  lines: number;
  published: number;
  byTopic: Map<string, number>;
  rejected: { line: number; reason: string; message: string }[];
}

export function formatSummary(summary: PublishSummary, dryRun: boolean): string {
  const topics = [...summary.byTopic].map(([topic, n]) => `${topic}: ${n}`).join(', ');
  const verb = dryRun ? 'valid (dry run, nothing sent)' : 'published';
  const out = [`${verb}: ${summary.published} event${summary.published === 1 ? '' : 's'}${topics ? ` (${topics})` : ''} from ${summary.lines} line${summary.lines === 1 ? '' : 's'}`];
  out.push(`rejected: ${summary.rejected.length}`);
  for (const r of summary.rejected.slice(0, MAX_LISTED_REJECTIONS)) out.push(`  line ${r.line}: ${r.reason}: ${r.message}`);
  if (summary.rejected.length > MAX_LISTED_REJECTIONS) out.push(`  ... and ${summary.rejected.length - MAX_LISTED_REJECTIONS} more`);
  return out.join('\n') + '\n';
}

export const PUBLISH_USAGE = `events publish <file.ndjson|-> [--mode structured|binary] [--source URI] [--dry-run] [--no-validate]`;

export async function publishCommand(argv: string[], env: CliEnv, io: { stdin: Readable; stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream }): Promise<number> {
  const { positional, options } = parseArgs(argv, { mode: 'string', source: 'string', 'dry-run': 'flag', 'no-validate': 'flag' });
  if (positional.length !== 1) throw new CliError(`usage: ${PUBLISH_USAGE}`, 2);
  const file = positional[0]!;
  const mode = options.mode as CloudEventMode | undefined;
  if (mode !== undefined && mode !== 'structured' && mode !== 'binary') throw new CliError('--mode must be structured or binary', 2);
  const dryRun = options['dry-run'] === true;

  let input: Readable;
  let total: number | undefined;
  if (file === '-') {
    input = io.stdin;
  } else {
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new CliError(`cannot read ${file}: not a file`);
      total = stat.size;
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    input = createReadStream(file);
  }

  const kafka = createKafka(env, 'events-cli-publish');
  const producer = dryRun ? undefined : await connect(createProducer(kafka), env);
  const publisher = producer ? new EventPublisher(producer) : undefined;
  const defaults: LineDefaults = { topics: { artifacts: env.artifactTopic, runs: env.runTopic }, mode, source: options.source as string | undefined, validate: options['no-validate'] !== true };
  const summary: PublishSummary = { lines: 0, published: 0, byTopic: new Map(), rejected: [] };
  const bar = new ProgressBar(io.stderr, total);
  let bytes = 0;
  input.on('data', (chunk: Buffer | string) => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  });
  input.on('error', () => undefined);
  const pending: BuiltEvent[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending.splice(0, pending.length);
    pendingBytes = 0;
    try {
      if (publisher) await publisher.send(batch);
    } catch (error) {
      throw new CliError(`publishing failed after ${summary.published} events: ${(error as Error).message}`);
    }
    summary.published += batch.length;
    for (const event of batch) summary.byTopic.set(event.topic, (summary.byTopic.get(event.topic) ?? 0) + 1);
  };
  const label = () => `line ${summary.lines} · ${dryRun ? 'valid' : 'published'} ${summary.published} · rejected ${summary.rejected.length}`;

  try {
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const text of lines) {
        summary.lines++;
        if (text.trim() === '') continue;
        const result = parseLine(text, defaults);
        if (result.ok) {
          pending.push(result.event);
          pendingBytes += result.event.message.value.length;
        } else {
          summary.rejected.push({ line: summary.lines, reason: result.reason, message: result.message });
        }
        if (pending.length >= BATCH || pendingBytes >= BATCH_BYTES) await flush();
        bar.update(bytes, label());
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(`cannot read ${file === '-' ? 'stdin' : file}: ${(error as Error).message}`);
    }
    await flush();
    bar.update(bytes, label(), true);
  } finally {
    bar.finish();
    await producer?.disconnect().catch(() => undefined);
  }
  io.stdout.write(formatSummary(summary, dryRun));
  return summary.rejected.length > 0 ? 1 : 0;
}
