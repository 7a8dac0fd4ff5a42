// Read-your-writes consistency tokens (docs/api.md, "Consistency tokens"): what a
// producer wrote, as the highest offset per topic-partition, carried opaquely to the
// query app's `X-Consistency-Token` header. The wire form is base64url of a compact,
// versioned JSON; it is validated strictly on the way in because it comes from HTTP.

/** The highest offset written per partition, by topic then partition. */
export type ConsistencyOffsets = Map<string, Map<number, bigint>>;

export const CONSISTENCY_TOKEN_VERSION = 1;
/** A token is a header value: bounded so a hostile one costs nothing to refuse. */
export const MAX_CONSISTENCY_TOKEN_CHARS = 8192;

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const PARTITION = /^(0|[1-9]\d{0,8})$/;
const OFFSET = /^(0|[1-9]\d{0,18})$/;
const MAX_OFFSET = (1n << 63n) - 1n;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class InvalidConsistencyTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidConsistencyTokenError';
  }
}

/** Raises each partition of `into` to `offsets`' (the later write wins). */
export function mergeOffsets(into: ConsistencyOffsets, offsets: ConsistencyOffsets): ConsistencyOffsets {
  for (const [topic, partitions] of offsets) {
    let target = into.get(topic);
    if (!target) into.set(topic, (target = new Map<number, bigint>()));
    for (const [partition, offset] of partitions) {
      const current = target.get(partition);
      if (current === undefined || offset > current) target.set(partition, offset);
    }
  }
  return into;
}

/** The token of `offsets`; topics and partitions sorted, so equal offsets give equal tokens. */
export function encodeConsistencyToken(offsets: ConsistencyOffsets): string {
  const o: Record<string, Record<string, string>> = {};
  for (const topic of [...offsets.keys()].sort()) {
    const partitions = offsets.get(topic)!;
    if (partitions.size === 0) continue;
    if (!TOPIC.test(topic)) throw new InvalidConsistencyTokenError(`not a Kafka topic name: ${JSON.stringify(topic)}`);
    o[topic] = {};
    for (const partition of [...partitions.keys()].sort((a, b) => a - b)) {
      const offset = partitions.get(partition)!;
      if (!Number.isInteger(partition) || partition < 0 || !PARTITION.test(String(partition))) throw new InvalidConsistencyTokenError(`not a partition: ${partition}`);
      if (offset < 0n || offset > MAX_OFFSET) throw new InvalidConsistencyTokenError(`not an offset: ${offset}`);
      o[topic][String(partition)] = offset.toString();
    }
  }
  if (Object.keys(o).length === 0) throw new InvalidConsistencyTokenError('a token names at least one partition');
  return Buffer.from(JSON.stringify({ v: CONSISTENCY_TOKEN_VERSION, o }), 'utf8').toString('base64url');
}

/** The offsets of a token; throws InvalidConsistencyTokenError with a one-line reason for anything but a token this module wrote. */
export function decodeConsistencyToken(token: string): ConsistencyOffsets {
  const bad = (why: string): never => {
    throw new InvalidConsistencyTokenError(why);
  };
  if (token.length === 0) bad('the token is empty');
  if (token.length > MAX_CONSISTENCY_TOKEN_CHARS) bad(`the token is longer than ${MAX_CONSISTENCY_TOKEN_CHARS} characters`);
  if (!BASE64URL.test(token)) bad('the token is not base64url');
  const bytes = Buffer.from(token, 'base64url');
  // Node decodes leniently (trailing bits, stray lengths): only the canonical spelling is a token.
  if (bytes.toString('base64url') !== token) bad('the token is not base64url');
  let root: unknown;
  try {
    root = JSON.parse(bytes.toString('utf8'));
  } catch {
    return bad('the token does not hold JSON');
  }
  if (!isPlainObject(root)) return bad('the token does not hold an object');
  const keys = Object.keys(root);
  if (root.v !== CONSISTENCY_TOKEN_VERSION) return bad(`unsupported token version ${JSON.stringify(root.v ?? null)}`);
  if (keys.length !== 2 || !('o' in root)) return bad('the token has unexpected fields');
  if (!isPlainObject(root.o)) return bad('the token has no offsets');
  const offsets: ConsistencyOffsets = new Map();
  for (const [topic, partitions] of Object.entries(root.o)) {
    if (!TOPIC.test(topic)) return bad(`not a Kafka topic name: ${JSON.stringify(topic.slice(0, 60))}`);
    if (!isPlainObject(partitions) || Object.keys(partitions).length === 0) return bad(`no partitions for topic ${topic}`);
    const byPartition = new Map<number, bigint>();
    for (const [partition, offset] of Object.entries(partitions)) {
      if (!PARTITION.test(partition)) return bad(`not a partition: ${JSON.stringify(partition.slice(0, 20))}`);
      if (typeof offset !== 'string' || !OFFSET.test(offset) || BigInt(offset) > MAX_OFFSET) return bad(`not an offset for ${topic}/${partition}`);
      byPartition.set(Number(partition), BigInt(offset));
    }
    offsets.set(topic, byPartition);
  }
  if (offsets.size === 0) bad('the token names no partition');
  return offsets;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Which partition each message went to. A produce answer gives each partition's base
// offset but not how many of the sent messages it holds; the partitioner wrapper below
// records each message's choice (kafkajs hands it the caller's own message objects).
const assignedPartitions = new WeakMap<object, number>();

/** Records the partition a message is sent to, for offsetsOfSend (PartitionedSender's sends). */
export function notePartition(message: object, partition: number): void {
  assignedPartitions.set(message, partition);
}

/** A partitioner as kafkajs calls it (structural, so this library does not depend on kafkajs). */
export type PartitionerFunction<A extends { message: object }> = (args: A) => number;

/**
 * Wraps a kafkajs partitioner factory (`Partitioners.DefaultPartitioner`) so that
 * EventPublisher.send can return exact consistency tokens:
 *
 *     kafka.producer({ createPartitioner: trackPartitions(Partitioners.DefaultPartitioner) })
 */
export function trackPartitions<A extends { message: object }>(create: () => PartitionerFunction<A>): () => PartitionerFunction<A> {
  return () => {
    const inner = create();
    return (args: A) => {
      const partition = inner(args);
      assignedPartitions.set(args.message, partition);
      return partition;
    };
  };
}

/** One entry of a kafkajs send's answer (`RecordMetadata`). */
interface RecordMetadataLike {
  topicName: string;
  partition: number;
  baseOffset?: string;
}

function isRecordMetadata(value: unknown): value is RecordMetadataLike {
  const r = value as RecordMetadataLike;
  return isPlainObject(value) && typeof r.topicName === 'string' && typeof r.partition === 'number' && typeof r.baseOffset === 'string' && OFFSET.test(r.baseOffset);
}

/**
 * The highest offset of each partition one send wrote, from its answer: the messages of a
 * partition are one record batch from its base offset. Undefined when that cannot be known
 * exactly (no answer with acks 0; messages spread over partitions by an untracked partitioner).
 */
export function offsetsOfSend(topic: string, messages: readonly object[], answer: unknown): ConsistencyOffsets | undefined {
  if (!Array.isArray(answer)) return undefined;
  const written = answer.filter((r): r is RecordMetadataLike => isRecordMetadata(r) && r.topicName === topic);
  if (written.length === 0 || messages.length === 0) return undefined;
  const counts = new Map<number, number>();
  if (written.length === 1) {
    counts.set(written[0]!.partition, messages.length);
  } else {
    for (const message of messages) {
      const explicit = (message as { partition?: unknown }).partition;
      const partition = typeof explicit === 'number' ? explicit : assignedPartitions.get(message);
      if (partition === undefined) return undefined;
      counts.set(partition, (counts.get(partition) ?? 0) + 1);
    }
  }
  const partitions = new Map<number, bigint>();
  for (const r of written) {
    const count = counts.get(r.partition);
    if (count === undefined) return undefined;
    partitions.set(r.partition, BigInt(r.baseOffset!) + BigInt(count) - 1n);
  }
  return new Map([[topic, partitions]]);
}
