// Creating topics that several processes may create at once (replicas of the ingest app
// starting together, test fixtures), written against kafkajs's Admin structurally so that
// each caller keeps kafkajs behind its own adapter.

export interface TopicSpec {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  configEntries?: { name: string; value: string }[];
}

/** The part of a kafkajs `Admin` that `createTopicsSettled` asks. */
export interface TopicAdmin {
  listTopics(): Promise<string[]>;
  createTopics(options: { waitForLeaders?: boolean; topics: TopicSpec[] }): Promise<boolean>;
  fetchTopicMetadata(options: { topics: string[] }): Promise<{ topics: { partitions: { leader: number }[] }[] }>;
}

/** What a broker answers while a topic just created is not yet known to it (a fresh cluster spreads new topics' metadata within seconds). */
const SETTLING_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** A kafkajs error's broker answer: its `type`, or its cause's once kafkajs gave up retrying. */
export function kafkaErrorType(error: unknown): string {
  const e = error as { type?: string; cause?: { type?: string } } | null;
  return e?.type ?? e?.cause?.type ?? '';
}

/**
 * Runs `action`, again after `pauseMs` while it fails with a SETTLING_ERRORS answer, for up
 * to `limitMs`; any other error, or the last one, goes through.
 */
export async function whileTopicsSettle<T>(action: () => Promise<T>, limitMs = 60_000, pauseMs = 500): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await action();
    } catch (error) {
      if (!SETTLING_ERRORS.has(kafkaErrorType(error)) || Date.now() - started >= limitMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * Creates the topics that do not exist yet (existing ones are left as they are) and returns
 * once every partition of every topic has a leader. Again from the listing while the cluster
 * settles: kafkajs's own wait for leaders (`waitForLeaders`) gives up on the first
 * UNKNOWN_TOPIC_OR_PARTITION, which a broker answers while another process creates the same
 * topics.
 */
export async function createTopicsSettled(admin: TopicAdmin, topics: TopicSpec[]): Promise<void> {
  const names = topics.map((t) => t.topic);
  await whileTopicsSettle(async () => {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    // Topics another process created meanwhile are no error (kafkajs returns false when all exist).
    if (missing.length > 0) await admin.createTopics({ waitForLeaders: false, topics: missing });
    const { topics: described } = await admin.fetchTopicMetadata({ topics: names });
    if (described.some((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0))) {
      throw Object.assign(new Error(`topics without leaders yet: ${names.join(', ')}`), { type: 'LEADER_NOT_AVAILABLE' });
    }
  });
}
