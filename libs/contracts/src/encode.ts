import { randomUUID } from 'node:crypto';
import { stringifyJson } from './json';
import type { WirePayloads } from './payloads';
import { ARTIFACT_EVENT_TYPES, EventType } from './topics';

// Producer-side helpers (tests, fixtures, bench loaders). They do not validate:
// tests use them to build poison messages too.

export type CloudEventMode = 'structured' | 'binary';

export interface EncodeOptions {
  mode?: CloudEventMode;
  /** CloudEvent id; default a random UUID. */
  id?: string;
  /** Default `/prefect/server`. */
  source?: string;
  /** Default the payload's `updated`, else `created`, else now. */
  time?: string;
  /** Default the payload's `id`. */
  subject?: string | null;
  /** Override the Kafka key (default: see messageKey). */
  key?: string | null;
  /** Extra headers, e.g. to test header handling. */
  headers?: Record<string, string>;
}

/** A message ready for kafkajs `producer.send({ topic, messages: [message] })`. */
export interface EncodedMessage {
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
}

const ARTIFACT_TYPES: ReadonlySet<string> = new Set(ARTIFACT_EVENT_TYPES);

/** The Kafka key per the contract: an artifact's key when it has one (the empty string is a key), else its id; for run events the entity id. */
export function messageKey(type: string, data: unknown): string | null {
  const d = (data ?? {}) as { id?: unknown; key?: unknown };
  if (ARTIFACT_TYPES.has(type) && typeof d.key === 'string') return d.key;
  return typeof d.id === 'string' ? d.id : null;
}

export function encodeEvent<T extends EventType>(type: T, data: WirePayloads[T], options?: EncodeOptions): EncodedMessage;
export function encodeEvent(type: string, data: unknown, options?: EncodeOptions): EncodedMessage;
export function encodeEvent(type: string, data: unknown, options: EncodeOptions = {}): EncodedMessage {
  const d = (data ?? {}) as { id?: unknown; created?: unknown; updated?: unknown };
  const id = options.id ?? randomUUID();
  const source = options.source ?? '/prefect/server';
  const time = options.time ?? (typeof d.updated === 'string' ? d.updated : typeof d.created === 'string' ? d.created : new Date().toISOString());
  const subject = options.subject !== undefined ? options.subject : typeof d.id === 'string' ? d.id : null;
  const key = options.key !== undefined ? options.key : messageKey(type, data);
  const keyBuffer = key === null ? null : Buffer.from(key, 'utf8');

  if (options.mode === 'binary') {
    const headers: Record<string, string> = {
      ce_specversion: '1.0',
      ce_id: id,
      ce_source: source,
      ce_type: type,
      ce_time: time,
      'content-type': 'application/json',
    };
    if (subject !== null) headers.ce_subject = subject;
    return { key: keyBuffer, value: Buffer.from(stringifyJson(data), 'utf8'), headers: { ...headers, ...options.headers } };
  }
  const event: Record<string, unknown> = { specversion: '1.0', id, source, type, time };
  if (subject !== null) event.subject = subject;
  event.datacontenttype = 'application/json';
  event.data = data;
  return {
    key: keyBuffer,
    value: Buffer.from(stringifyJson(event), 'utf8'),
    headers: { 'content-type': 'application/cloudevents+json', ...options.headers },
  };
}
