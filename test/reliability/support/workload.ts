import { EncodedMessage, encodeEvent, rawJson } from '@app/contracts';

// A seeded stream of producer messages of every contract type, shaped to exercise
// every rule of docs/events.md: versions of a key created out of order and with tied
// `created`, updates (some stale, some of unknown or deleted ids), deletes of the
// latest version (fallback) and of the last one, keyless artifacts, run snapshots
// arriving late, deletes and revivals, both CloudEvents bindings, and duplicates
// (the same message produced again later, as a retrying producer does).
// The test oracle never trusts this generator: it folds what it reads back from the
// topics, so a message produced twice or lost by a retried send is accounted for.

export type Stream = 'artifacts' | 'runs';

export interface WorkloadMessage {
  stream: Stream;
  message: EncodedMessage;
  /** Its CloudEvent id (the workload's events; a hand-made hostile message has none). */
  id?: string;
}

export interface WorkloadOptions {
  /** Distinct artifact keys (default 2000). */
  keys?: number;
  /** Distinct entities per run table (default 3000). */
  runEntities?: number;
}

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = Date.UTC(2025, 0, 1);
const RUN_KINDS = ['flow', 'deployment', 'flow-run', 'task-run'] as const;
type RunKind = (typeof RUN_KINDS)[number];
const STATES = [
  ['SCHEDULED', 'Scheduled'],
  ['RUNNING', 'Running'],
  ['COMPLETED', 'Completed'],
  ['FAILED', 'Failed'],
  ['CANCELLED', 'Cancelled'],
] as const;

export class Workload {
  readonly counts: Record<string, number> = {};
  private readonly random: () => number;
  private readonly keys: number;
  private readonly runEntities: number;
  private readonly artifacts: { id: string; key: string | null }[] = [];
  private readonly recent: WorkloadMessage[] = [];
  private clock = 0;

  constructor(seed: number, options: WorkloadOptions = {}) {
    this.random = prng(seed);
    this.keys = options.keys ?? 2000;
    this.runEntities = options.runEntities ?? 3000;
  }

  take(n: number): WorkloadMessage[] {
    return Array.from({ length: n }, () => this.next());
  }

  next(): WorkloadMessage {
    this.clock += this.int(3);
    const roll = this.random();
    let out: WorkloadMessage;
    if (roll < 0.07 && this.recent.length > 0) {
      // A producer retry: the very same message again, later in its partition.
      out = this.pick(this.recent);
      this.count('duplicate');
    } else if (roll < 0.4) out = this.artifactCreated();
    else if (roll < 0.54) out = this.artifactUpdated();
    else if (roll < 0.6) out = this.artifactDeleted();
    else out = this.runEvent();
    this.recent.push(out);
    if (this.recent.length > 2000) this.recent.splice(0, 1000);
    return out;
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  private count(kind: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[this.int(4)]}${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  /** `seconds` after T0, whole seconds half the time so that ties are common. */
  private time(seconds: number): string {
    const ms = Math.max(0, seconds) * 1000 + (this.random() < 0.5 ? 0 : this.int(1000));
    const iso = new Date(T0 + ms).toISOString();
    // Some producers send offsets other than Z and more than millisecond precision.
    if (this.random() < 0.1) return iso.replace('Z', '123+00:00');
    return iso;
  }

  private runId(kind: RunKind, n: number): string {
    const k = RUN_KINDS.indexOf(kind);
    return `00000000-0000-4${k}00-8000-${n.toString(16).padStart(12, '0')}`;
  }

  private encode(stream: Stream, type: string, data: Record<string, unknown>, time?: string): WorkloadMessage {
    this.count(type);
    const mode = this.random() < 0.3 ? 'binary' : 'structured';
    const id = this.uuid();
    return { stream, id, message: encodeEvent(type, data, { mode, id, source: '/reliability/workload', ...(time ? { time } : {}) }) };
  }

  private data(): unknown {
    switch (this.int(7)) {
      case 0:
        return null;
      case 1:
        return this.int(1_000_000);
      case 2:
        return `report ${this.int(10_000)}`;
      case 3:
        return rawJson(this.random() < 0.5 ? '1.50' : '123456789012345678901234567890');
      case 4:
        return { rows: Array.from({ length: this.int(4) }, (_, i) => ({ i, v: this.int(100) })), ok: this.random() < 0.5 };
      case 5:
        return [1, 'two', { three: [3] }, null];
      default:
        return `# Markdown ${this.int(1000)}\n\n| a | b |\n|---|---|\n| ${this.int(9)} | ${this.int(9)} |`;
    }
  }

  private metadata(): Record<string, string> | null {
    if (this.random() < 0.3) return null;
    const m: Record<string, string> = { source: `s${this.int(5)}` };
    if (this.random() < 0.05) m.long = 'x'.repeat(480 + this.int(60)); // cut at 500 chars + "..."
    return m;
  }

  private artifactCreated(): WorkloadMessage {
    const id = this.uuid();
    const r = this.random();
    const key = r < 0.15 ? null : r < 0.16 ? '' : `k-${this.int(this.keys)}`;
    this.artifacts.push({ id, key });
    // Created a little before "now": versions of one key arrive out of created order, with ties.
    const created = this.time(this.clock - this.int(20));
    const data: Record<string, unknown> = {
      id,
      key,
      type: this.pick(['markdown', 'table', 'result', 'link', 'progress']),
      description: this.random() < 0.5 ? null : `artifact ${this.int(100)}`,
      data: this.data(),
      metadata_: this.metadata(),
      flow_run_id: this.random() < 0.7 ? this.runId('flow-run', this.int(this.runEntities)) : null,
      task_run_id: this.random() < 0.3 ? this.runId('task-run', this.int(this.runEntities)) : null,
      created,
    };
    if (this.random() < 0.3) data.updated = this.time(this.clock);
    return this.encode('artifacts', 'prefect.artifact.created', data);
  }

  private knownArtifact(): { id: string; key: string | null } {
    if (this.artifacts.length === 0 || this.random() < 0.03) return { id: this.uuid(), key: `k-${this.int(this.keys)}` };
    // Mostly recent ones, so updates and deletes hit live versions and latest ones.
    const recent = Math.max(0, this.artifacts.length - 500);
    return this.random() < 0.8 ? (this.artifacts[recent + this.int(this.artifacts.length - recent)] as { id: string; key: string | null }) : this.pick(this.artifacts);
  }

  private artifactUpdated(): WorkloadMessage {
    const { id, key } = this.knownArtifact();
    // Some updates are older than the version's `updated`: stale, ignored.
    const data: Record<string, unknown> = { id, updated: this.time(this.clock - this.int(10)) };
    if (key !== null) data.key = key;
    if (this.random() < 0.6) data.data = this.data();
    if (this.random() < 0.5) data.description = this.random() < 0.2 ? null : `edited ${this.int(100)}`;
    if (this.random() < 0.3) data.metadata_ = this.metadata();
    return this.encode('artifacts', 'prefect.artifact.updated', data);
  }

  private artifactDeleted(): WorkloadMessage {
    const { id, key } = this.knownArtifact();
    const data: Record<string, unknown> = { id };
    if (key !== null) data.key = key;
    if (this.random() < 0.5) data.updated = this.time(this.clock);
    return this.encode('artifacts', 'prefect.artifact.deleted', data, this.time(this.clock));
  }

  private runEvent(): WorkloadMessage {
    const kind = this.pick(['flow', 'deployment', 'flow-run', 'flow-run', 'task-run', 'task-run'] as const);
    const id = this.runId(kind, this.int(kind === 'flow' ? 200 : kind === 'deployment' ? 500 : this.runEntities));
    // Snapshots arrive late and out of order; ties on `updated` happen.
    const updated = this.time(this.clock - this.int(15));
    if (this.random() < 0.08) return this.encode('runs', `prefect.${kind}.deleted`, { id, updated });
    const created = this.time(this.int(100));
    const tags = Array.from({ length: this.int(3) }, () => this.pick(['prod', 'dev', 'etl', 'a,b', 'ünï', '"q"']));
    const [stateType, stateName] = this.pick(STATES);
    const name = `${kind}-${this.int(50)}`;
    switch (kind) {
      case 'flow':
        return this.encode('runs', 'prefect.flow.upserted', { id, name, tags, created, updated });
      case 'deployment':
        return this.encode('runs', 'prefect.deployment.upserted', {
          id,
          flow_id: this.runId('flow', this.int(200)),
          name,
          tags,
          work_queue_name: this.pick(['default', 'gpu', null]),
          paused: this.random() < 0.2,
          concurrency_limit: this.random() < 0.5 ? null : this.int(10),
          created,
          updated,
        });
      case 'flow-run': {
        const data: Record<string, unknown> = {
          id,
          flow_id: this.runId('flow', this.int(200)),
          deployment_id: this.random() < 0.5 ? this.runId('deployment', this.int(500)) : null,
          name,
          tags,
          flow_version: this.random() < 0.5 ? null : `v${this.int(5)}`,
          work_queue_name: this.pick(['default', 'gpu', null]),
          parent_task_run_id: this.random() < 0.1 ? this.runId('task-run', this.int(this.runEntities)) : null,
          idempotency_key: this.random() < 0.2 ? `idem-${this.int(100)}` : null,
          start_time: this.random() < 0.5 ? null : this.time(this.int(1000)),
          end_time: this.random() < 0.7 ? null : this.time(this.int(1000)),
          expected_start_time: this.time(this.int(1000)),
          next_scheduled_start_time: null,
          created_by: this.random() < 0.3 ? { id: this.uuid(), type: 'DEPLOYMENT', display_value: `dep-${this.int(9)}` } : null,
          created,
          updated,
        };
        // Either spelling of the state (docs/events.md): flat fields or Prefect's `state` object.
        if (this.random() < 0.5) Object.assign(data, { state_type: stateType, state_name: stateName });
        else data.state = { type: stateType, name: stateName, message: 'ignored' };
        return this.encode('runs', 'prefect.flow-run.upserted', data);
      }
      case 'task-run':
        return this.encode('runs', 'prefect.task-run.upserted', {
          id,
          flow_run_id: this.runId('flow-run', this.int(this.runEntities)),
          name,
          tags,
          task_key: `task-${this.int(20)}`,
          dynamic_key: String(this.int(5)),
          state_type: stateType,
          state_name: stateName,
          start_time: this.random() < 0.5 ? null : this.time(this.int(1000)),
          end_time: null,
          expected_start_time: this.time(this.int(1000)),
          created,
          updated,
        });
    }
  }
}
