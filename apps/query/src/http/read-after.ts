import { ConsistencyOffsets, decodeConsistencyToken, InvalidConsistencyTokenError } from '@app/contracts';
import { readCheckpoints, Sql } from '@app/persistence';
import { detailError } from './prefect-errors';

// Read your writes (docs/api.md, "Consistency tokens", our extension of Prefect's API):
// a request carrying `X-Consistency-Token` is answered only once the read model holds
// every offset the token names. The ingest app moves its checkpoint (the next offset
// to read) in the same transaction as the rows, so `next_offset > offset` on the
// database this app reads (primary or standby) means the rows are visible here too:
// the wait and the read run on the same pool (QueryDatabase.pinnedRead).

export const CONSISTENCY_HEADER = 'x-consistency-token';

const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

export interface ReadAfterOptions {
  groupId: string;
  /** The topics the ingest app consumes (ARTIFACT_TOPIC, RUN_TOPIC): a token naming another is refused. */
  topics: readonly string[];
  timeoutMs: number;
}

/** One partition a token is ahead of the read model on. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The token's offset: the last one written. */
  offset: bigint;
  /** The checkpoint: the next offset the ingest app will apply; null when it has applied none there. */
  next: bigint | null;
}

/** The partitions `offsets` names that `checkpoints` ("topic:partition" → next offset) has not applied. */
export function lagging(offsets: ConsistencyOffsets, checkpoints: Map<string, bigint>): PartitionLag[] {
  const behind: PartitionLag[] = [];
  for (const [topic, partitions] of offsets) {
    for (const [partition, offset] of partitions) {
      const next = checkpoints.get(`${topic}:${partition}`) ?? null;
      if (next === null || next <= offset) behind.push({ topic, partition, offset, next });
    }
  }
  return behind;
}

/** The 504's detail: how far behind, partition by partition. */
export function describeLag(behind: readonly PartitionLag[], timeoutMs: number): string {
  const parts = behind.map(({ topic, partition, offset, next }) =>
    next === null
      ? `${topic}/${partition}: nothing applied yet, token needs offset ${offset}`
      : `${topic}/${partition}: ${offset - next + 1n} behind (applied up to offset ${next - 1n}, token needs ${offset})`,
  );
  return `The read model has not applied the consistency token within ${timeoutMs} ms: ${parts.join('; ')}.`;
}

/** The header's offsets, or undefined without it; a malformed one (or one naming a topic not consumed here) is a 422. */
export function parseConsistencyHeader(header: string | string[] | undefined, topics: readonly string[]): ConsistencyOffsets | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw invalid('give the header once');
  let offsets: ConsistencyOffsets;
  try {
    offsets = decodeConsistencyToken(header.trim());
  } catch (error) {
    if (error instanceof InvalidConsistencyTokenError) throw invalid(error.message);
    throw error;
  }
  for (const topic of offsets.keys()) {
    if (!topics.includes(topic)) throw invalid(`it names topic ${topic}, which this read model does not consume (${topics.join(', ')})`);
  }
  return offsets;
}

function invalid(reason: string) {
  return detailError(422, `Invalid X-Consistency-Token header: ${reason}.`);
}

/**
 * Waits, polling the checkpoints with a growing pause, until they cover `offsets`;
 * throws the 504 once `timeoutMs` has passed. One small indexed read per poll.
 */
export async function waitForOffsets(sql: Sql, offsets: ConsistencyOffsets, options: ReadAfterOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let pause = FIRST_POLL_MS;
  for (;;) {
    const behind = lagging(offsets, await readCheckpoints(sql, options.groupId));
    if (behind.length === 0) return;
    const left = deadline - Date.now();
    if (left <= 0) throw detailError(504, describeLag(behind, options.timeoutMs));
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    pause = Math.min(pause * 2, MAX_POLL_MS);
  }
}

/** Where reads run: `pinnedRead` runs `read` on the pool where `ready` succeeded. */
export interface PinnableDatabase {
  pinnedRead<T>(ready: (sql: Sql) => Promise<void>, read: () => Promise<T>): Promise<T>;
}

/** What the routes call: reads once the request's token, if it has one, is applied where the read runs. */
export class ReadAfter {
  constructor(
    private readonly db: PinnableDatabase,
    private readonly options: ReadAfterOptions,
  ) {}

  async read<T>(headers: RequestHeaders, read: () => Promise<T>): Promise<T> {
    const offsets = parseConsistencyHeader(headers[CONSISTENCY_HEADER], this.options.topics);
    if (offsets === undefined) return read();
    return this.db.pinnedRead((sql) => waitForOffsets(sql, offsets, this.options), read);
  }

  /** Only the wait, for a route that reads on its own afterwards (a subscription's feed reads the primary, which no standby is ahead of). */
  async wait(headers: RequestHeaders): Promise<void> {
    await this.read(headers, async () => undefined);
  }
}

type RequestHeaders = Record<string, string | string[] | undefined>;
