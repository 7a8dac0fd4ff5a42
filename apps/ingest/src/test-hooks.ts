// Fault injection for the reliability tests (test/reliability), off unless an
// INGEST_TEST_* variable is set; never set them in production.
//   INGEST_TEST_CRASH_POINT=<point>[:<n>]  kill -9 this process the n-th time (default 1st) a batch reaches <point>
//   INGEST_TEST_STALL_MS=<ms>              hold every batch this long after decoding, before its transaction
// Random kill -9 from outside covers these points too, only not on demand.

export const CRASH_POINTS = [
  /** Inside the batch transaction: projection writes done, checkpoint not yet moved. */
  'mid-transaction',
  /** Checkpoint moved, COMMIT not yet sent. */
  'before-commit',
  /** Committed in PostgreSQL, not yet resolved to Kafka (its committed offset lags behind). */
  'after-commit',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export interface TestHooksConfig {
  crash?: { point: CrashPoint; at: number };
  stallMs?: number;
}

/** Parses INGEST_TEST_*; returns undefined when none is set. Throws a message for a malformed value. */
export function parseTestHooks(env: NodeJS.ProcessEnv): TestHooksConfig | undefined {
  const crash = env.INGEST_TEST_CRASH_POINT;
  const stall = env.INGEST_TEST_STALL_MS;
  if (!crash && !stall) return undefined;
  const config: TestHooksConfig = {};
  if (crash) {
    const [point, at = '1'] = crash.split(':');
    if (!CRASH_POINTS.includes(point as CrashPoint) || !/^[1-9]\d*$/.test(at)) {
      throw new Error(`INGEST_TEST_CRASH_POINT must be one of ${CRASH_POINTS.join(', ')}, optionally followed by :<n>, got "${crash}"`);
    }
    config.crash = { point: point as CrashPoint, at: Number(at) };
  }
  if (stall) {
    if (!/^\d+$/.test(stall)) throw new Error(`INGEST_TEST_STALL_MS must be a number of milliseconds, got "${stall}"`);
    config.stallMs = Number(stall);
  }
  return config;
}

export interface BatchRef {
  topic: string;
  partition: number;
  first: string;
  last: string;
}

export class TestHooks {
  private reached = 0;

  constructor(private readonly config: TestHooksConfig | undefined) {}

  async point(point: CrashPoint, batch: BatchRef): Promise<void> {
    const crash = this.config?.crash;
    if (crash?.point !== point || ++this.reached < crash.at) return;
    process.stderr.write(`test hook: kill -9 at ${point} in ${batch.topic}:${batch.partition} [${batch.first}..${batch.last}]\n`);
    process.kill(process.pid, 'SIGKILL');
    await new Promise<never>(() => undefined);
  }

  async stall(batch: BatchRef): Promise<void> {
    const ms = this.config?.stallMs;
    if (!ms) return;
    process.stderr.write(`test hook: stalling ${batch.topic}:${batch.partition} [${batch.first}..${batch.last}] for ${ms} ms\n`);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
