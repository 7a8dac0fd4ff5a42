import { randomUUID } from 'node:crypto';
import { decodeMessage, DecodeFailureReason } from './cloudevents';
import { ConsistencyOffsets, encodeConsistencyToken, mergeOffsets, offsetsOfSend } from './consistency';
import { CloudEventMode, EncodedMessage, encodeEvent } from './encode';
import type { WirePayloads } from './payloads';
import { normaliseTimestamp } from './scalars';
import { DEFAULT_TOPICS, EventType, isEventType, streamOf, TopicNames, topicFor } from './topics';

// The producer side of docs/events.md for Node producers: build an event, validate it
// exactly as the ingest app will (the same decoder and zod `payloadSchemas`), pick
// its topic and key, and send it through the caller's kafkajs Producer. Typed
// structurally so that this library does not depend on kafkajs.

/** What `send` is given; a kafkajs `ProducerRecord` has this shape. */
export interface ProducerRecordLike {
  topic: string;
  messages: EncodedMessage[];
  acks?: number;
}

/** The one method of a kafkajs `Producer` this library uses. */
export interface EventSender {
  send(record: ProducerRecordLike): Promise<unknown>;
}

export interface BuildOptions {
  /** CloudEvents Kafka binding; default `structured`. */
  mode?: CloudEventMode;
  /** CloudEvent id; default a random UUID. Keep it when you re-send the same change. */
  id?: string;
  /** CloudEvent source (URI-reference of the producer); default `/prefect/server`. */
  source?: string;
  /** RFC 3339; default the payload's `updated`, else `created` (when valid), else now. */
  time?: string;
  /** Default the payload's `id`. */
  subject?: string | null;
  /** Topic names (ARTIFACT_TOPIC / RUN_TOPIC of the ingest app); default `prefect.artifacts` / `prefect.runs`. */
  topics?: Partial<TopicNames>;
  /** Extra Kafka headers (tracing, ...). */
  headers?: Record<string, string>;
}

/** A validated event, ready to send. */
export interface BuiltEvent<T extends EventType = EventType> {
  type: T;
  /** CloudEvent id. */
  id: string;
  topic: string;
  /** The contract's Kafka key (artifact key, else the entity id). */
  key: string | null;
  message: EncodedMessage;
}

/** The event would be dead-lettered by the ingest app; `reason` and `message` are what its `dlq-reason` / `dlq-error` headers would say. */
export class InvalidEventError extends Error {
  constructor(
    readonly reason: DecodeFailureReason,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/**
 * Builds and validates one event. Validation is the ingest app's own decoder run
 * on the encoded message, so anything accepted here is applied there (and
 * anything refused here would have been dead-lettered). Throws InvalidEventError.
 * `data` may hold `rawJson(...)` values, or be a lossless tree from `parseJson`,
 * to send exact number literals.
 */
export function buildEvent<T extends EventType>(type: T, data: WirePayloads[T], options?: BuildOptions): BuiltEvent<T>;
export function buildEvent(type: string, data: unknown, options?: BuildOptions): BuiltEvent;
export function buildEvent(type: string, data: unknown, options: BuildOptions = {}): BuiltEvent {
  if (!isEventType(type)) throw new InvalidEventError('unknown_type', type, `unknown event type ${JSON.stringify(type)}`);
  // A lossless tree's top level as an object, so the key, subject and time defaults can read its fields.
  const payload: unknown = data instanceof Map ? Object.fromEntries(data as Map<string, unknown>) : data;
  const id = options.id ?? randomUUID();
  // An unparsable `updated` must be reported as the payload error it is, not as a bad envelope time.
  const time = options.time ?? defaultTime(payload);
  let message: EncodedMessage;
  try {
    message = encodeEvent(type, payload, { mode: options.mode, id, source: options.source, time, subject: options.subject, headers: options.headers });
  } catch (error) {
    throw new InvalidEventError('invalid_payload', type, `invalid ${type} data: ${error instanceof Error ? error.message : String(error)}`);
  }
  const decoded = decodeMessage(message, streamOf(type));
  if (!decoded.ok) throw new InvalidEventError(decoded.reason, type, decoded.message);
  return { type, id, topic: topicFor(type, { ...DEFAULT_TOPICS, ...options.topics }), key: message.key === null ? null : message.key.toString('utf8'), message };
}

function defaultTime(payload: unknown): string {
  const p = (payload ?? {}) as { updated?: unknown; created?: unknown };
  for (const value of [p.updated, p.created]) if (typeof value === 'string' && normaliseTimestamp(value) !== null) return value;
  return new Date().toISOString();
}

/** Method name → event type, for the named builders and publish methods. */
export const EVENT_BUILDER_NAMES = {
  artifactCreated: 'prefect.artifact.created',
  artifactUpdated: 'prefect.artifact.updated',
  artifactDeleted: 'prefect.artifact.deleted',
  flowUpserted: 'prefect.flow.upserted',
  flowDeleted: 'prefect.flow.deleted',
  deploymentUpserted: 'prefect.deployment.upserted',
  deploymentDeleted: 'prefect.deployment.deleted',
  flowRunUpserted: 'prefect.flow-run.upserted',
  flowRunDeleted: 'prefect.flow-run.deleted',
  taskRunUpserted: 'prefect.task-run.upserted',
  taskRunDeleted: 'prefect.task-run.deleted',
} as const satisfies Record<string, EventType>;

type BuilderName = keyof typeof EVENT_BUILDER_NAMES;
type TypeOf<K extends BuilderName> = (typeof EVENT_BUILDER_NAMES)[K];

export type EventBuilders = { [K in BuilderName]: (data: WirePayloads[TypeOf<K>], options?: BuildOptions) => BuiltEvent<TypeOf<K>> };
export type PublishMethods = { [K in BuilderName]: (data: WirePayloads[TypeOf<K>], options?: BuildOptions) => Promise<PublishedEvent<TypeOf<K>>> };

/** A sent event and the consistency token of its send (see EventPublisher.send). */
export type PublishedEvent<T extends EventType = EventType> = BuiltEvent<T> & { consistencyToken: string | undefined };

function merge(defaults: BuildOptions, options: BuildOptions | undefined): BuildOptions {
  if (!options) return defaults;
  return { ...defaults, ...options, topics: { ...defaults.topics, ...options.topics }, headers: { ...defaults.headers, ...options.headers } };
}

/** One builder per event type (`artifactCreated`, `flowRunUpserted`, ...), with `defaults` for every call. */
export function createEventBuilders(defaults: BuildOptions = {}): EventBuilders {
  const builders: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(EVENT_BUILDER_NAMES)) {
    builders[name] = (data: unknown, options?: BuildOptions) => buildEvent(type, data, merge(defaults, options));
  }
  return builders as EventBuilders;
}

export const eventBuilders: EventBuilders = createEventBuilders();

/**
 * kafkajs producer settings that go with acks -1: the broker drops a batch the producer
 * retries after a lost answer (no duplicate), and one request in flight keeps the order.
 * `kafka.producer({ ...RELIABLE_PRODUCER, ... })`.
 */
export const RELIABLE_PRODUCER = { idempotent: true, maxInFlightRequests: 1 } as const;

export interface EventPublisherOptions extends BuildOptions {
  /** kafkajs `acks`; default -1 (all in-sync replicas), which the contract's "never lost" needs. */
  acks?: -1 | 0 | 1;
}

/**
 * Publishes validated events through a kafkajs Producer (or anything with its `send`):
 *
 *     const publisher = new EventPublisher(producer, { topics: { artifacts: process.env.ARTIFACT_TOPIC }, source: '/billing/etl' });
 *     await publisher.artifactCreated({ id, key: 'daily-report', type: 'table', data: rows, created: now });
 */
// The per-type methods are generated in the constructor; this merge gives them their types.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface EventPublisher extends PublishMethods {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class EventPublisher {
  readonly build: EventBuilders;
  private readonly acks: -1 | 0 | 1;

  constructor(
    private readonly producer: EventSender,
    private readonly options: EventPublisherOptions = {},
  ) {
    this.acks = options.acks ?? -1;
    this.build = createEventBuilders(options);
    for (const [name, type] of Object.entries(EVENT_BUILDER_NAMES)) {
      (this as unknown as Record<string, unknown>)[name] = (data: unknown, o?: BuildOptions) => this.publish(type, data as never, o);
    }
  }

  /** Builds (with this publisher's defaults), validates and sends one event; its `consistencyToken` is send's. */
  async publish<T extends EventType>(type: T, data: WirePayloads[T], options?: BuildOptions): Promise<PublishedEvent<T>> {
    const event = buildEvent(type, data, merge(this.options, options));
    const consistencyToken = await this.send(event);
    return { ...event, consistencyToken };
  }

  /**
   * Sends built events, one `send` per run of events bound for the same topic,
   * keeping their order (order only matters, and only holds, within a key).
   * Returns their consistency token (for the query app's `X-Consistency-Token`), or
   * undefined when the offsets written cannot be known exactly: with acks 0, or
   * events spread over several partitions by a producer whose partitioner is not
   * wrapped in `trackPartitions`.
   */
  async send(events: BuiltEvent | readonly BuiltEvent[]): Promise<string | undefined> {
    const offsets = await this.sendTracked(events);
    return offsets === undefined ? undefined : encodeConsistencyToken(offsets);
  }

  /** send, answering the offsets written (to merge over several sends), or undefined as send says. */
  async sendTracked(events: BuiltEvent | readonly BuiltEvent[]): Promise<ConsistencyOffsets | undefined> {
    const list = Array.isArray(events) ? (events as readonly BuiltEvent[]) : [events as BuiltEvent];
    let offsets: ConsistencyOffsets | undefined = new Map();
    for (let i = 0; i < list.length; ) {
      const topic = list[i]!.topic;
      let j = i;
      while (j < list.length && list[j]!.topic === topic) j++;
      const messages = list.slice(i, j).map((e) => e.message);
      const answer = await this.producer.send({ topic, acks: this.acks, messages });
      const written = offsetsOfSend(topic, messages, answer);
      offsets = written === undefined || offsets === undefined ? undefined : mergeOffsets(offsets, written);
      i = j;
    }
    return offsets === undefined || offsets.size === 0 ? undefined : offsets;
  }
}
