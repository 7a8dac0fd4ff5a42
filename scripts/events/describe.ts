// One readable line per Kafka message, for `tail` and `replay-dlq --dry-run`. It
// must work on anything, dead letters included, so it reads leniently instead of
// using the contract's decoder.
import { isUtf8 } from 'node:buffer';
import { JsonNumber, JsonValue, parseJson, stringifyJson } from '@app/contracts';

export type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export interface MessageView {
  topic: string;
  partition: number;
  offset: string;
  /** Kafka timestamp, ms since the epoch, as kafkajs gives it. */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

export function header(headers: Headers, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name || v === undefined) continue;
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    return last === undefined ? undefined : last.toString();
  }
  return undefined;
}

const MAX_PARSED_VALUE = 1_000_000;

/** The CloudEvent attributes a message carries, from ce_ headers (binary) or the JSON value (structured). */
function attributes(message: MessageView): { type?: string; id?: string; time?: string } {
  const fromHeaders = { type: header(message.headers, 'ce_type'), id: header(message.headers, 'ce_id'), time: header(message.headers, 'ce_time') };
  if (fromHeaders.type !== undefined || message.value === null || message.value.length > MAX_PARSED_VALUE) return fromHeaders;
  try {
    const root = JSON.parse(message.value.toString('utf8')) as unknown;
    if (root && typeof root === 'object' && !Array.isArray(root)) {
      const r = root as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      return { type: str(r.type), id: str(r.id), time: str(r.time) };
    }
  } catch {
    // not JSON: shown as such
  }
  return {};
}

/** The CloudEvents type a message carries, if any (`tail --type`). */
export function messageType(message: MessageView): string | undefined {
  return attributes(message).type;
}

/** The message's Kafka timestamp (producer or broker time) as ISO text, `-` when absent. */
export function kafkaTime(timestamp: string): string {
  const ms = Number(timestamp);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : '-';
}

function printable(text: string, max = 120): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return /[\s"\\]|[^\x20-\x7e]/.test(clipped) || clipped === '' ? JSON.stringify(clipped) : clipped;
}

/** The value as a lossless JSON tree, or undefined when it is not JSON (or not UTF-8). */
export function jsonValue(value: Buffer | null): JsonValue | undefined {
  if (value === null || value.length === 0 || !isUtf8(value)) return undefined;
  try {
    return parseJson(value.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Bytes as printable text: UTF-8 kept, control characters, backslashes and invalid bytes escaped (\n, \t, \xNN). */
export function escapeBytes(value: Buffer): string {
  const escape = (code: number) => (code === 0x0a ? '\\n' : code === 0x09 ? '\\t' : code === 0x0d ? '\\r' : code === 0x5c ? '\\\\' : `\\x${code.toString(16).padStart(2, '0')}`);
  if (isUtf8(value)) {
    let out = '';
    for (const ch of value.toString('utf8')) {
      const code = ch.codePointAt(0)!;
      out += code < 0x20 || code === 0x7f || code === 0x5c ? escape(code) : ch;
    }
    return out;
  }
  let out = '';
  for (const byte of value) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : escape(byte);
  return out;
}

/** Indented JSON text of a lossless tree: numbers exactly as written, keys in their order. */
export function prettyJson(value: JsonValue, indent = ''): string {
  if (value instanceof JsonNumber) return value.raw;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[\n${value.map((v) => inner + prettyJson(v, inner)).join(',\n')}\n${indent}]`;
  if (value.size === 0) return '{}';
  return `{\n${[...value].map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(',\n')}\n${indent}}`;
}

/** `tail --value`: pretty JSON, or the raw bytes escaped; `<null>` for a tombstone. */
export function renderValue(value: Buffer | null): string {
  if (value === null) return '<null>';
  if (value.length === 0) return '<empty>';
  const tree = jsonValue(value);
  return tree === undefined ? escapeBytes(value) : prettyJson(tree);
}

function headersText(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (last !== undefined) out[name] = last.toString();
  }
  return out;
}

/**
 * Machine-readable view (`tail --json`): the position, both times, key, type, id,
 * the headers and the value (`value` when it is JSON, kept lossless; else
 * `value_text` for UTF-8, `value_base64` for other bytes), plus `dlq` for a dead
 * letter. `events publish` reads such a line back (see publish.ts).
 */
export function describeJson(message: MessageView): Record<string, unknown> {
  const a = attributes(message);
  const out: Record<string, unknown> = {
    time: a.time ?? null,
    kafka_time: kafkaTime(message.timestamp),
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8'),
    type: a.type ?? null,
    id: a.id ?? null,
  };
  const reason = header(message.headers, 'dlq-reason');
  if (reason !== undefined) {
    out.dlq = {
      reason,
      error: header(message.headers, 'dlq-error') ?? null,
      source_topic: header(message.headers, 'dlq-source-topic') ?? null,
      source_partition: header(message.headers, 'dlq-source-partition') ?? null,
      source_offset: header(message.headers, 'dlq-source-offset') ?? null,
      failed_at: header(message.headers, 'dlq-failed-at') ?? null,
      truncated: header(message.headers, 'dlq-truncated') ?? null,
    };
  }
  out.headers = headersText(message.headers);
  const tree = jsonValue(message.value);
  if (message.value === null || tree !== undefined) out.value = tree ?? null;
  else if (isUtf8(message.value)) out.value_text = message.value.toString('utf8');
  else out.value_base64 = message.value.toString('base64');
  return out;
}

/** One NDJSON line of describeJson, numbers of the value as written. */
export function describeJsonLine(message: MessageView): string {
  return stringifyJson(describeJson(message));
}

/**
 * `<event time> <Kafka time> <topic>[<partition>]@<offset> <type> key=<key> id=<id>`,
 * and for a dead letter ` reason=<reason> source=<topic>[<p>]@<offset> error=<error>`.
 * The event time is the CloudEvent's `time` (`-` when it has none).
 */
export function describe(message: MessageView): string {
  const a = attributes(message);
  const parts = [
    a.time === undefined ? '-' : printable(a.time),
    kafkaTime(message.timestamp),
    `${message.topic}[${message.partition}]@${message.offset}`,
    a.type === undefined ? (message.value === null ? '<empty>' : '<not a CloudEvent>') : printable(a.type),
    `key=${message.key === null ? '<none>' : printable(message.key.toString('utf8'))}`,
  ];
  if (a.id !== undefined) parts.push(`id=${printable(a.id)}`);
  const reason = header(message.headers, 'dlq-reason');
  if (reason !== undefined) {
    parts.push(`reason=${printable(reason)}`);
    const source = header(message.headers, 'dlq-source-topic');
    if (source !== undefined) parts.push(`source=${source}[${header(message.headers, 'dlq-source-partition') ?? '?'}]@${header(message.headers, 'dlq-source-offset') ?? '?'}`);
    if (header(message.headers, 'dlq-truncated') !== undefined) parts.push('truncated');
    const error = header(message.headers, 'dlq-error');
    if (error !== undefined) parts.push(`error=${JSON.stringify(error.length > 300 ? `${error.slice(0, 300)}…` : error)}`);
  }
  return parts.join(' ');
}
