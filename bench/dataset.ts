import { createHash } from 'node:crypto';
import { encodeEvent, EncodedMessage } from '@app/contracts';

export interface Scale {
  name: 'small' | 'full' | 'large';
  /** Artifact versions, over versions / 10 keys. */
  versions: number;
  /**
   * Versions per block: each block has keys, flow runs and task runs of its own (versions / 10
   * keys, runs and task runs shared out evenly), its versions spread over its keys in turn. One
   * block at small and full scale; at large scale the first block is the full scale's data set,
   * so its checkpoint (1M) and its end (10M) hold the same shape, ten times over.
   */
  block: number;
  /** Flows, deployments and flow runs each. */
  runs: number;
  taskRuns: number;
  /** Where the growth comparison takes its first measurement. */
  checkpoint: number;
  queryDurationSeconds: number;
  /** --quick: each of our HTTP windows is this many requests instead of queryDurationSeconds (under load a window of 0.1 s can end before any answer). */
  queryRequests?: number;
  /** Before each measuring window. */
  warmupSeconds: number;
  /** Prefect's windows (--peer): longer, since a window shorter than its slower answers under 10 connections counts none of them. */
  peerDurationSeconds: number;
  freshnessSeconds: number;
}

export const SCALES: Record<Scale['name'], Scale> = {
  small: { name: 'small', versions: 16_000, block: 16_000, runs: 1_000, taskRuns: 2_000, checkpoint: 8_000, queryDurationSeconds: 2, warmupSeconds: 1, peerDurationSeconds: 10, freshnessSeconds: 5 },
  full: { name: 'full', versions: 1_000_000, block: 1_000_000, runs: 20_000, taskRuns: 100_000, checkpoint: 100_000, queryDurationSeconds: 10, warmupSeconds: 1, peerDurationSeconds: 15, freshnessSeconds: 60 },
  large: { name: 'large', versions: 10_000_000, block: 1_000_000, runs: 200_000, taskRuns: 1_000_000, checkpoint: 1_000_000, queryDurationSeconds: 10, warmupSeconds: 1, peerDurationSeconds: 15, freshnessSeconds: 60 },
};

export const TYPES = ['markdown', 'table', 'result', 'progress', 'link'];
export const STATES = ['COMPLETED', 'FAILED', 'RUNNING', 'SCHEDULED', 'CANCELLED', 'CRASHED', 'PENDING', 'PAUSED'];
/** Shares of the flow runs owned by the first three targets of a kind (deployment 0, 1, 2; COMPLETED, FAILED, RUNNING). */
export const SHARES = [1 / 2, 1 / 5, 1 / 20];
const BASE = Date.parse('2026-01-01T00:00:00Z');

/** Deterministic UUID-shaped ids: the same scale always produces the same data set. */
export function id(kind: string, n: number): string {
  const h = createHash('md5').update(`${kind}:${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function keyOf(n: number): string {
  return `bench-key-${String(n).padStart(6, '0')}`;
}

const at = (ms: number) => new Date(BASE + ms).toISOString();

export interface Topics {
  artifacts: string;
  runs: string;
}

export interface Produced {
  topic: string;
  message: EncodedMessage;
}

/**
 * Which target of `count` owns flow run `i`: the first three own exactly SHARES of the runs
 * (over a permutation of the runs, `multiplier` prime to their number), the rest share what is left.
 */
export function ownerOf(i: number, runs: number, multiplier: number, count: number): number {
  const q = ((i * multiplier) % runs) / runs;
  let bound = 0;
  for (const [target, share] of SHARES.entries()) {
    bound += share;
    if (q < bound) return target;
  }
  return SHARES.length + (i % (count - SHARES.length));
}

/**
 * Run-side events: flows, deployments, flow runs, task runs (all snapshots). Deployment 0
 * (and its flow 0) owns 1/2 of the runs, 1 owns 1/5, 2 owns 1/20; COMPLETED, FAILED and
 * RUNNING states likewise; every second run is tagged `nightly`.
 */
export function* runEvents(scale: Scale, topics: Topics): Generator<Produced> {
  for (let i = 0; i < scale.runs; i++) {
    const t = at(i * 1000);
    yield { topic: topics.runs, message: encodeEvent('prefect.flow.upserted', { id: id('flow', i), name: `flow-${i}`, tags: [`team-${i % 10}`], created: t, updated: t }) };
    yield {
      topic: topics.runs,
      message: encodeEvent('prefect.deployment.upserted', { id: id('deployment', i), flow_id: id('flow', i), name: `deployment-${i}`, tags: ['prod'], work_queue_name: 'default', paused: i % 7 === 0, created: t, updated: t }),
    };
  }
  for (let i = 0; i < scale.runs; i++) {
    const t = at(i * 1000 + 500);
    const owner = ownerOf(i, scale.runs, 7919, scale.runs);
    const state = STATES[ownerOf(i, scale.runs, 104_729, STATES.length)]!;
    yield {
      topic: topics.runs,
      message: encodeEvent(
        'prefect.flow-run.upserted',
        {
          id: id('flow-run', i),
          flow_id: id('flow', owner),
          deployment_id: id('deployment', owner),
          name: `run-${i}`,
          tags: i % 2 ? ['nightly'] : [],
          state_type: state,
          state_name: state[0] + state.slice(1).toLowerCase(),
          start_time: t,
          expected_start_time: t,
          created: t,
          updated: t,
        },
        { mode: i % 2 ? 'binary' : 'structured' },
      ),
    };
  }
  for (let i = 0; i < scale.taskRuns; i++) {
    const t = at(i * 200);
    const state = STATES[i % STATES.length]!;
    yield {
      topic: topics.runs,
      message: encodeEvent('prefect.task-run.upserted', { id: id('task-run', i), flow_run_id: id('flow-run', i % scale.runs), name: `task-${i}`, tags: [], task_key: 'work', dynamic_key: String(i), state_type: state, state_name: state, start_time: t, created: t, updated: t }),
    };
  }
}

/** Version `n`'s key, flow run and task run, and which of its key's versions it is (from 1): see `Scale.block`. */
export function versionOf(scale: Scale, n: number): { key: number; run: number; taskRun: number; version: number } {
  const blocks = Math.max(1, Math.floor(scale.versions / scale.block));
  const keys = Math.max(1, Math.floor(scale.block / 10));
  const runs = Math.max(1, Math.floor(scale.runs / blocks));
  const taskRuns = Math.max(1, Math.floor(scale.taskRuns / blocks));
  const b = Math.floor(n / scale.block);
  const i = n % scale.block;
  return { key: b * keys + (i % keys), run: b * runs + (i % runs), taskRun: b * taskRuns + (i % taskRuns), version: Math.floor(i / keys) + 1 };
}

/** Artifact versions `from`..`to` (exclusive), spread over versions/10 keys, each key's versions in created order. */
export function* artifactEvents(scale: Scale, topics: Topics, from: number, to: number): Generator<Produced> {
  for (let n = from; n < to; n++) {
    const v = versionOf(scale, n);
    const key = keyOf(v.key);
    const t = at(n * 100);
    const type = TYPES[n % TYPES.length]!;
    yield {
      topic: topics.artifacts,
      message: encodeEvent(
        'prefect.artifact.created',
        {
          id: id('artifact', n),
          key,
          type,
          description: `Version ${v.version} of ${key}`,
          data: type === 'table' ? [{ row: n, value: n * 1.5, ok: true }] : type === 'progress' ? (n % 100) + 0.5 : `# Report ${n}\n\nAll good.`,
          metadata_: { run: String(n % 1000), owner: `team-${n % 10}` },
          flow_run_id: id('flow-run', v.run),
          task_run_id: id('task-run', v.taskRun),
          created: t,
          updated: t,
        },
        { mode: n % 2 ? 'binary' : 'structured' },
      ),
    };
  }
}
