// One readable line per Kafka message, for `tail` and `replay-dlq --dry-run`. It
// must work on anything, dead letters included, so it reads leniently instead of
// using the contract's decoder.

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

function kafkaTime(timestamp: string): string {
  const ms = Number(timestamp);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : '-';
}

function printable(text: string, max = 120): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return /[\s"\\]|[^\x20-\x7e]/.test(clipped) || clipped === '' ? JSON.stringify(clipped) : clipped;
}

/** Machine-readable view (`tail --json`). */
export function describeJson(message: MessageView): Record<string, unknown> {
  const a = attributes(message);
  const out: Record<string, unknown> = {
    time: a.time ?? kafkaTime(message.timestamp),
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
  return out;
}

/**
 * `<time> <topic>[<partition>]@<offset> <type> key=<key> id=<id>`, and for a dead
 * letter ` reason=<reason> source=<topic>[<p>]@<offset> error=<error>`. The time is
 * the CloudEvent's, else the Kafka timestamp.
 */
export function describe(message: MessageView): string {
  const a = attributes(message);
  const parts = [
    a.time ?? kafkaTime(message.timestamp),
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
