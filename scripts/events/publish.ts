import { randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import {
  buildEvent,
  BuiltEvent,
  CloudEventMode,
  ConsistencyOffsets,
  decodeMessage,
  encodeConsistencyToken,
  encodeEvent,
  EventPublisher,
  EventType,
  InvalidEventError,
  isEventType,
  JsonObject,
  JsonSyntaxError,
  JsonValue,
  mergeOffsets,
  messageKey,
  normaliseTimestamp,
  parseJson,
  payloadProblems,
  stringifyJson,
  streamOf,
  TopicNames,
  topicFor,
} from '@app/contracts';
import { CliEnv, CliError, parseArgs } from './cli';
import { connect, createKafka, createProducer } from './kafka';
import { ProgressBar } from './progress';
import { waitForToken } from './wait';

// `publish <file.ndjson|->`: one event per line, in any of three shapes:
//  - a line of this tool: {"type": "prefect.artifact.created", "data": {...}, "id"?, "source"?, "time"?, "subject"?, "mode"?}
//  - a CloudEvent exactly as on the topic in structured mode ({"specversion": "1.0", "id", "source", "type", "time", "data", ...}),
//    e.g. what kcat prints; sent as it is, extensions included
//  - a line of `tail --json`: its key, value and headers are sent again (dlq-* headers dropped), binary mode included
// validated by the ingest app's own decoder, published to the configured topics
// (chosen by the event type) with the contract's keys. Blank lines are skipped.

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
  if (root.has('specversion')) return cloudEventLine(text, root, defaults);
  if (root.has('topic') && root.has('offset') && (root.has('value') || root.has('value_text') || root.has('value_base64'))) return capturedLine(root, defaults);
  return toolLine(root, defaults);
}

/** A line of this tool's own shape; every problem of its shape and payload is reported at once. */
function toolLine(root: JsonObject, defaults: LineDefaults): LineResult {
  const problems: string[] = [];
  const unknown = [...root.keys()].filter((field) => !LINE_FIELDS.has(field));
  if (unknown.length > 0) problems.push(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => JSON.stringify(f)).join(', ')} (a line has type, data, id, source, time, subject, mode; or is a CloudEvent with specversion)`);
  const strings: Record<string, string | undefined> = {};
  for (const field of ['type', 'id', 'source', 'time', 'subject', 'mode']) {
    const value = root.get(field);
    if (value === undefined) continue;
    if (typeof value !== 'string') problems.push(`${field} must be a string`);
    else strings[field] = value;
  }
  const type = strings.type;
  if (!root.has('type') || strings.type === '') problems.push('type is required');
  if (!root.has('data')) problems.push('data is required');
  const mode = (strings.mode ?? defaults.mode) as CloudEventMode | undefined;
  if (mode !== undefined && mode !== 'structured' && mode !== 'binary') problems.push(`mode must be "structured" or "binary", got ${JSON.stringify(mode)}`);
  const data = root.get('data');
  if (problems.length > 0) {
    const payload = type !== undefined && isEventType(type) && data instanceof Map && defaults.validate ? payloadProblems(type, data) : [];
    if (payload.length > 0) problems.push(`invalid ${type} data: ${payload.join('; ')}`);
    return lineError(problems.join('; '));
  }
  const options = { mode, id: strings.id, source: strings.source ?? defaults.source, time: strings.time, subject: strings.subject, topics: defaults.topics };
  if (!defaults.validate) return { ok: true, event: unvalidated(type!, data, options) };
  try {
    return { ok: true, event: buildEvent(type!, data, options) };
  } catch (error) {
    if (!(error instanceof InvalidEventError)) throw error;
    if (error.reason === 'invalid_payload' && isEventType(type!) && data instanceof Map) return rejection(error.reason, [], type, data, error.message);
    return { ok: false, reason: error.reason, message: error.message };
  }
}

/** The attribute problems the decoder would find in a CloudEvent, all of them (it stops at the first). */
export function envelopeProblems(attributes: Map<string, unknown>): string[] {
  const problems: string[] = [];
  if (attributes.get('specversion') !== '1.0') problems.push('specversion must be "1.0"');
  for (const name of ['id', 'source', 'type']) {
    const value = attributes.get(name);
    if (typeof value !== 'string' || value === '') problems.push(`${name}: required non-empty string attribute`);
  }
  const time = attributes.get('time');
  if (typeof time !== 'string') problems.push('time: required attribute');
  else if (normaliseTimestamp(time) === null) problems.push(`time: invalid RFC 3339 datetime ${JSON.stringify(time.slice(0, 60))}`);
  const subject = attributes.get('subject');
  if (subject !== undefined && subject !== null && typeof subject !== 'string') problems.push('subject: must be a string');
  return problems;
}

/** A rejection listing every problem: the envelope's, then the payload's (when its type is known and its data an object). */
function rejection(reason: string, envelope: string[], type: unknown, data: JsonValue | undefined, fallback: string): LineResult {
  const payload = typeof type === 'string' && isEventType(type) && data instanceof Map ? payloadProblems(type, data) : [];
  const problems = [...envelope, ...(payload.length > 0 ? [`invalid ${String(type)} data: ${payload.join('; ')}`] : [])];
  return { ok: false, reason, message: problems.length > 0 ? problems.join('; ') : fallback };
}

/** A structured-mode CloudEvent as it appears on the topic: sent byte for byte. */
function cloudEventLine(text: string, root: JsonObject, defaults: LineDefaults): LineResult {
  const type = root.get('type');
  const data = root.get('data');
  const plainData = data instanceof Map ? Object.fromEntries(data) : data;
  const key = messageKey(typeof type === 'string' ? type : '', plainData);
  const message = { key: key === null ? null : Buffer.from(key, 'utf8'), value: Buffer.from(text.trim(), 'utf8'), headers: { 'content-type': 'application/cloudevents+json' } };
  return checked(message, root, type, data, defaults);
}

/** A line of `tail --json`: the message again, minus the dead-letter headers. */
function capturedLine(root: JsonObject, defaults: LineDefaults): LineResult {
  const headers: Record<string, string> = {};
  const given = root.get('headers');
  if (given !== undefined && given !== null && !(given instanceof Map)) return lineError('headers must be an object of strings');
  for (const [name, value] of given ?? []) {
    if (typeof value !== 'string') return lineError(`header ${JSON.stringify(name)} must be a string`);
    if (!name.toLowerCase().startsWith('dlq-')) headers[name] = value;
  }
  const key = root.get('key');
  if (key !== null && key !== undefined && typeof key !== 'string') return lineError('key must be a string or null');
  let value: Buffer;
  let tree: JsonValue | undefined;
  if (root.has('value')) {
    tree = root.get('value')!;
    if (tree === null) return lineError('value is null (a tombstone): nothing to publish');
    value = Buffer.from(stringifyJson(tree), 'utf8');
  } else if (typeof root.get('value_text') === 'string') {
    value = Buffer.from(root.get('value_text') as string, 'utf8');
  } else if (typeof root.get('value_base64') === 'string') {
    value = Buffer.from(root.get('value_base64') as string, 'base64');
  } else {
    return lineError('value_text and value_base64 must be strings');
  }
  const binary = Object.keys(headers).some((h) => h.toLowerCase() === 'ce_specversion');
  const attributes = binary ? new Map(Object.entries(headers).filter(([h]) => h.toLowerCase().startsWith('ce_')).map(([h, v]) => [h.slice(3).toLowerCase(), v])) : tree instanceof Map ? tree : new Map<string, unknown>();
  const data = binary ? tree : tree instanceof Map ? tree.get('data') : undefined;
  const message = { key: typeof key === 'string' ? Buffer.from(key, 'utf8') : null, value, headers };
  return checked(message, attributes, attributes.get('type'), data, defaults);
}

/** Validates a ready message with the ingest app's decoder and picks its topic from its type. */
function checked(message: BuiltEvent['message'], attributes: Map<string, unknown>, type: unknown, data: JsonValue | undefined, defaults: LineDefaults): LineResult {
  if (typeof type !== 'string' || type === '') return rejection('not_cloudevent', envelopeProblems(attributes), type, data, 'type: required non-empty string attribute');
  if (defaults.validate) {
    const decoded = decodeMessage(message, isEventType(type) ? streamOf(type) : undefined);
    if (!decoded.ok) {
      if (decoded.reason === 'not_cloudevent' || decoded.reason === 'invalid_payload') return rejection(decoded.reason, envelopeProblems(attributes), type, data, decoded.message);
      return { ok: false, reason: decoded.reason, message: decoded.message };
    }
  }
  const id = attributes.get('id');
  return { ok: true, event: { type: type as EventType, id: typeof id === 'string' ? id : '', topic: topicOfType(type, defaults.topics), key: message.key === null ? null : message.key.toString('utf8'), message } };
}

/** A contract type's topic; an unknown type goes where its name says, so that the ingest app dead-letters it as unknown_type. */
function topicOfType(type: string, topics: TopicNames): string {
  return isEventType(type) ? topicFor(type, topics) : type.startsWith('prefect.artifact.') ? topics.artifacts : topics.runs;
}

function unvalidated(type: string, data: unknown, options: { mode?: CloudEventMode; id?: string; source?: string; time?: string; subject?: string; topics: TopicNames }): BuiltEvent {
  const payload: unknown = data instanceof Map ? Object.fromEntries(data as Map<string, unknown>) : data;
  const id = options.id ?? randomUUID();
  const message = encodeEvent(type, payload, { ...options, id });
  return { type: type as BuiltEvent['type'], id, topic: topicOfType(type, options.topics), key: message.key === null ? null : message.key.toString(), message };
}

export interface PublishSummary {
  lines: number;
  published: number;
  byTopic: Map<string, number>;
  rejected: { line: number; reason: string; message: string }[];
  /** The consistency token of everything published (X-Consistency-Token); absent for a dry run or when nothing was sent. */
  token?: string;
}

export function formatSummary(summary: PublishSummary, dryRun: boolean): string {
  const topics = [...summary.byTopic].map(([topic, n]) => `${topic}: ${n}`).join(', ');
  const verb = dryRun ? 'valid (dry run, nothing sent)' : 'published';
  const out = [`${verb}: ${summary.published} event${summary.published === 1 ? '' : 's'}${topics ? ` (${topics})` : ''} from ${summary.lines} line${summary.lines === 1 ? '' : 's'}`];
  out.push(`rejected: ${summary.rejected.length}`);
  for (const r of summary.rejected.slice(0, MAX_LISTED_REJECTIONS)) out.push(`  line ${r.line}: ${r.reason}: ${r.message}`);
  if (summary.rejected.length > MAX_LISTED_REJECTIONS) out.push(`  ... and ${summary.rejected.length - MAX_LISTED_REJECTIONS} more`);
  if (summary.token !== undefined) out.push(`consistency token: ${summary.token}`);
  return out.join('\n') + '\n';
}

export const PUBLISH_USAGE = `events publish <file.ndjson|-> [--mode structured|binary] [--source URI] [--dry-run] [--no-validate] [--wait] [--wait-timeout S]`;

export const PUBLISH_HELP = `${PUBLISH_USAGE}
  Publishes one event per line (- reads stdin) to the configured topics, keyed as the contract says. Each line is one of:
    {"type": "prefect.artifact.created", "data": {...}, "id"?, "source"?, "time"?, "subject"?, "mode"?: "structured"|"binary"}
    a CloudEvent as on the topic: {"specversion": "1.0", "id", "source", "type", "time", "data", ...} (sent as it is; what kcat prints)
    a line of \`events tail --json\` (its key, value and headers are sent again, dead-letter headers dropped)
  A line the ingest app would dead-letter is rejected with every problem it has, by line number (exit 1); the others are sent.
  --mode          binary or structured for lines of the first shape (default structured)
  --source URI    CloudEvents source for lines of the first shape without one (default /prefect/server)
  --dry-run       validate only, send nothing
  --no-validate   check only the line's shape: send what the ingest app will dead-letter (to test the dead-letter path)
  --wait          after publishing, wait until the read model has applied every event sent (asks the query app at QUERY_URL
                  with the consistency token; exit 1 if it has not within --wait-timeout)
  --wait-timeout  seconds --wait waits at most (default 60)
  The last line printed is the consistency token of what was sent: pass it as X-Consistency-Token to a query to read it back.
`;

export async function publishCommand(argv: string[], env: CliEnv, io: { stdin: Readable; stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream }): Promise<number> {
  const { positional, options } = parseArgs(argv, { mode: 'string', source: 'string', 'dry-run': 'flag', 'no-validate': 'flag', wait: 'flag', 'wait-timeout': 'number' });
  if (positional.length !== 1) throw new CliError(`usage: ${PUBLISH_USAGE}`, 2);
  const file = positional[0]!;
  const mode = options.mode as CloudEventMode | undefined;
  if (mode !== undefined && mode !== 'structured' && mode !== 'binary') throw new CliError('--mode must be structured or binary', 2);
  const dryRun = options['dry-run'] === true;
  const wait = options.wait === true;
  if (wait && dryRun) throw new CliError('--wait and --dry-run exclude each other', 2);
  if (options['wait-timeout'] !== undefined && !wait) throw new CliError('--wait-timeout needs --wait', 2);
  const waitSeconds = (options['wait-timeout'] as number | undefined) ?? 60;

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
  // The highest offset written per partition; undefined once a send could not tell (then no token).
  let written: ConsistencyOffsets | undefined = new Map();
  // Bytes of the lines handled so far (not of the chunks read ahead), so the bar follows the lines.
  let bytes = 0;
  let accepted = 0;
  input.on('error', () => undefined);
  const pending: BuiltEvent[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending.splice(0, pending.length);
    pendingBytes = 0;
    try {
      if (publisher) {
        const offsets = await publisher.sendTracked(batch);
        written = offsets === undefined || written === undefined ? undefined : mergeOffsets(written, offsets);
      }
    } catch (error) {
      throw new CliError(`publishing failed after ${summary.published} events: ${(error as Error).message}`);
    }
    summary.published += batch.length;
    for (const event of batch) summary.byTopic.set(event.topic, (summary.byTopic.get(event.topic) ?? 0) + 1);
  };
  const label = () => `line ${summary.lines} · ${dryRun ? 'valid' : 'accepted'} ${accepted} · rejected ${summary.rejected.length}`;

  try {
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const text of lines) {
        summary.lines++;
        bytes += Buffer.byteLength(text) + 1;
        if (text.trim() === '') continue;
        const result = parseLine(text, defaults);
        if (result.ok) {
          accepted++;
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
    bar.update(total ?? bytes, label(), true);
  } finally {
    bar.finish();
    await producer?.disconnect().catch(() => undefined);
  }
  if (publisher && summary.published > 0 && written !== undefined && written.size > 0) summary.token = encodeConsistencyToken(written);
  io.stdout.write(formatSummary(summary, dryRun));
  if (wait && summary.published > 0) {
    if (summary.token === undefined) throw new CliError('cannot wait: the offsets written are unknown (acks 0?)');
    await waitForToken(summary.token, env, waitSeconds * 1000);
    io.stdout.write('applied by the read model\n');
  }
  return summary.rejected.length > 0 ? 1 : 0;
}
