import { isUtf8 } from 'node:buffer';
import { JsonObject, JsonSyntaxError, JsonValue, parseJson } from './json';
import { fastPayload, payloadErrorMap, payloadSchemas, PayloadTypes, schemaInput } from './payloads';
import { normaliseTimestamp } from './scalars';
import { EventStream, EventType, eventTypeOf, streamOf } from './topics';

export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** The parts of a Kafka message the decoder reads (a kafkajs `KafkaMessage` fits). */
export interface KafkaMessageLike {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, HeaderValue>;
}

export interface CloudEventAttributes {
  id: string;
  source: string;
  /** Canonical UTC timestamp string (see normaliseTimestamp). */
  time: string;
  subject: string | null;
}

export type ContractEvent = { [T in EventType]: CloudEventAttributes & { type: T; data: PayloadTypes[T] } }[EventType];
export type EventOf<T extends EventType> = Extract<ContractEvent, { type: T }>;

/** Where an event was read: offsets are kafkajs strings (int64), compared as bigint. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

/** A decoded event plus its source position: what the ingest runner hands to the projections. */
export type DecodedEvent<T extends EventType = EventType> = EventOf<T> & { position: SourcePosition };

/** Fixed set, used as a Prometheus label and a DLQ header value. */
export const DECODE_FAILURE_REASONS = ['invalid_json', 'not_cloudevent', 'unknown_type', 'invalid_payload', 'wrong_topic'] as const;
export type DecodeFailureReason = (typeof DECODE_FAILURE_REASONS)[number];

/** Every `dlq-reason` the ingest app writes: the decoder's, and `rejected_by_database` (PostgreSQL refused the event's data). */
export const DEAD_LETTER_REASONS = [...DECODE_FAILURE_REASONS, 'rejected_by_database'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export type DecodeResult =
  | { ok: true; event: ContractEvent }
  | { ok: false; reason: DecodeFailureReason; message: string; type?: string };

type Failure = Extract<DecodeResult, { ok: false }>;

function fail(reason: DecodeFailureReason, message: string, type?: string): Failure {
  return type === undefined ? { ok: false, reason, message } : { ok: false, reason, message, type };
}

/**
 * Decodes a Kafka message holding a CloudEvent in either Kafka binding
 * (structured or binary) and validates its payload. Never throws. When `stream`
 * is given, an event type that belongs on the other topic is `wrong_topic`.
 */
export function decodeMessage(message: KafkaMessageLike, stream?: EventStream): DecodeResult {
  try {
    return decode(message, stream);
  } catch (error) {
    return fail('invalid_payload', `decoder error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

interface Envelope {
  specversion: unknown;
  id: unknown;
  source: unknown;
  type: unknown;
  time: unknown;
  subject: unknown;
  datacontenttype: unknown;
}

function decode(message: KafkaMessageLike, stream: EventStream | undefined): DecodeResult {
  const headers = readHeaders(message.headers);
  const contentType = headers.get('content-type');
  const media = contentType === undefined ? undefined : mediaType(contentType);

  let envelope: Envelope;
  let data: JsonValue | undefined;
  if (media !== undefined && media.startsWith('application/cloudevents')) {
    if (media !== 'application/cloudevents+json') return fail('not_cloudevent', `unsupported content-type ${JSON.stringify(contentType)}`);
    const root = parseValue(message.value);
    if (root instanceof ParseFailure) return root.failure;
    if (!(root instanceof Map)) return fail('not_cloudevent', 'structured event is not a JSON object');
    ({ envelope, data } = structured(root));
  } else if (headers.has('ce_specversion')) {
    if (media !== undefined && !isJsonMedia(media)) return fail('not_cloudevent', `unsupported content-type ${JSON.stringify(contentType)}`);
    envelope = {
      specversion: headers.get('ce_specversion'),
      id: headers.get('ce_id'),
      source: headers.get('ce_source'),
      type: headers.get('ce_type'),
      time: headers.get('ce_time'),
      subject: headers.get('ce_subject'),
      datacontenttype: undefined,
    };
    if (message.value !== null && message.value.length > 0) {
      const root = parseValue(message.value);
      if (root instanceof ParseFailure) return root.failure;
      data = root;
    }
  } else if (media === undefined || isJsonMedia(media)) {
    const root = parseValue(message.value);
    if (root instanceof ParseFailure) return root.failure;
    if (!(root instanceof Map) || !root.has('specversion')) {
      return fail('not_cloudevent', 'no ce_specversion header and no top-level specversion attribute');
    }
    ({ envelope, data } = structured(root));
  } else {
    return fail('not_cloudevent', `unsupported content-type ${JSON.stringify(contentType)}`);
  }

  const failure = checkEnvelope(envelope);
  if (failure) return failure;
  const type = eventTypeOf(envelope.type as string);
  if (type === undefined) return fail('unknown_type', `unknown event type ${JSON.stringify(envelope.type)}`, envelope.type as string);
  if (stream !== undefined && streamOf(type) !== stream) {
    return fail('wrong_topic', `${type} belongs on the ${streamOf(type)} topic, not the ${stream} topic`, type);
  }
  if (data === undefined) return fail('invalid_payload', 'data: required', type);
  if (!(data instanceof Map)) return fail('invalid_payload', 'data: must be a JSON object', type);

  const payload = fastPayload(type, data) ?? schemaPayload(type, data);
  if (payload instanceof ParseFailure) return payload.failure;
  const event = {
    id: envelope.id as string,
    source: envelope.source as string,
    time: normaliseTimestamp(envelope.time as string) as string,
    subject: typeof envelope.subject === 'string' ? envelope.subject : null,
    type,
    data: payload,
  } as ContractEvent;
  return { ok: true, event };
}

/** The zod schema's verdict: decides every payload the fast path did not accept, and words the failure. */
export function schemaPayload(type: EventType, data: JsonObject): PayloadTypes[EventType] | ParseFailure {
  const parsed = payloadSchemas[type].safeParse(schemaInput(type, data), { error: payloadErrorMap });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return new ParseFailure(fail('invalid_payload', `invalid ${type} data: ${issue ? issueText(issue) : 'invalid'}`, type));
}

/** Every problem the payload schema finds, worded as in `dlq-error` (the decoder stops at the first); empty when valid. */
export function payloadProblems(type: EventType, data: JsonObject): string[] {
  const parsed = payloadSchemas[type].safeParse(schemaInput(type, data), { error: payloadErrorMap });
  return parsed.success ? [] : parsed.error.issues.map(issueText);
}

function issueText(issue: { path: PropertyKey[]; message: string }): string {
  return `${issue.path.length ? `${issue.path.map(String).join('.')}: ` : ''}${issue.message}`;
}

function structured(root: JsonObject): { envelope: Envelope; data: JsonValue | undefined } {
  return {
    envelope: {
      specversion: root.get('specversion'),
      id: root.get('id'),
      source: root.get('source'),
      type: root.get('type'),
      time: root.get('time'),
      subject: root.get('subject') ?? undefined,
      datacontenttype: root.get('datacontenttype') ?? undefined,
    },
    data: root.get('data'),
  };
}

function checkEnvelope(e: Envelope): Failure | undefined {
  if (e.specversion !== '1.0') return fail('not_cloudevent', `specversion must be "1.0"`);
  for (const name of ['id', 'source', 'type'] as const) {
    const value = e[name];
    if (typeof value !== 'string' || value === '') return fail('not_cloudevent', `${name}: required non-empty string attribute`);
  }
  if (typeof e.time !== 'string') return fail('not_cloudevent', 'time: required attribute', e.type as string);
  if (normaliseTimestamp(e.time) === null) return fail('not_cloudevent', `time: invalid RFC 3339 datetime ${JSON.stringify(e.time.slice(0, 60))}`, e.type as string);
  if (e.subject !== undefined && typeof e.subject !== 'string') return fail('not_cloudevent', 'subject: must be a string', e.type as string);
  if (e.datacontenttype !== undefined && !(typeof e.datacontenttype === 'string' && isJsonMedia(mediaType(e.datacontenttype)))) {
    return fail('not_cloudevent', `datacontenttype: unsupported ${JSON.stringify(e.datacontenttype)}`, e.type as string);
  }
  return undefined;
}

export class ParseFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

function parseValue(value: Buffer | string | null): JsonValue | ParseFailure {
  if (value === null || value.length === 0) return new ParseFailure(fail('invalid_json', 'empty message value'));
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else {
    if (!isUtf8(value)) return new ParseFailure(fail('invalid_json', 'message value is not valid UTF-8'));
    text = value.toString('utf8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return parseJson(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return new ParseFailure(fail('invalid_json', error.message));
    throw error;
  }
}

function readHeaders(headers: Record<string, HeaderValue> | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!headers) return out;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (lower !== 'content-type' && !lower.startsWith('ce_')) continue;
    let value = headers[name];
    if (Array.isArray(value)) value = value[value.length - 1];
    if (value === undefined) continue;
    out.set(lower, typeof value === 'string' ? value : value.toString('utf8'));
  }
  return out;
}

function mediaType(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

function isJsonMedia(media: string): boolean {
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json') && !media.startsWith('application/cloudevents'));
}
