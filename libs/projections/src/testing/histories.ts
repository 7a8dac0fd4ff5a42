import fc from 'fast-check';
import type { DecodedEvent, SourcePosition } from '@app/contracts';
import { at, created, deleted, deploymentUpserted, entityDeleted, flowRunUpserted, flowUpserted, position, taskRunUpserted, updated, uuid } from './fixtures';

// Random event logs over small pools of ids, keys and instants (so ties,
// duplicates, stale updates, deletes of the latest and revivals all happen),
// with redeliveries of earlier events at their original positions and producer
// retries (an earlier event sent again, at a new position of its partition),
// split into random consecutive batches.

const TIMES = [at(1), at(2), at(2, 1), at(3), at(4), at(5, 999999)];
const DATA = [null, '1.0', '{"b":1,"a":[1.5,null,-0.0]}', '"caf\u00e9"', '123456789012345678901234567890'];
const METADATA = [null, '{"k":"v"}', '{"2":"b","1":"a"}'];
const KEYS = ['a', 'b', '', null];
const RUN_TYPES = ['flow', 'deployment', 'flow-run', 'task-run'] as const;

type Command =
  | { kind: 'create'; id: number; created: number; bump: number; data: number; meta: number }
  | { kind: 'update'; id: number; updated: number; fields: { data?: number; description?: string | null; meta?: number } }
  | { kind: 'delete'; id: number; withKey: boolean }
  | { kind: 'redeliver'; index: number }
  | { kind: 'resend'; index: number }
  | { kind: 'run'; entity: number; id: number; del: boolean; updated: number; name: number };

const time = fc.nat({ max: TIMES.length - 1 });

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), id: fc.nat({ max: 7 }), created: time, bump: fc.nat({ max: 2 }), data: fc.nat({ max: DATA.length - 1 }), meta: fc.nat({ max: METADATA.length - 1 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      id: fc.nat({ max: 7 }),
      updated: time,
      fields: fc.record(
        { data: fc.nat({ max: DATA.length - 1 }), description: fc.constantFrom('d1', 'd2', null), meta: fc.nat({ max: METADATA.length - 1 }) },
        { requiredKeys: [] },
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.nat({ max: 7 }), withKey: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resend' as const), index: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('run' as const), entity: fc.nat({ max: 3 }), id: fc.nat({ max: 2 }), del: fc.boolean(), updated: time, name: fc.nat({ max: 2 }) }) },
);

export interface History {
  events: DecodedEvent[];
  batches: DecodedEvent[][];
}

function partitionOf(kafkaKey: string): number {
  let h = 0;
  for (let i = 0; i < kafkaKey.length; i++) h = (h * 31 + kafkaKey.charCodeAt(i)) | 0;
  return Math.abs(h) % 2;
}

export interface HistoryOptions {
  /**
   * Follow the contract's keying: artifact deletes always carry the artifact's key, so
   * every event of an artifact is in one partition, and no offset is delivered twice
   * (no 'redeliver'). The log is then a set of partition logs whose interleaving does
   * not matter (docs/events.md: nothing depends on order across partitions).
   */
  contractKeys?: boolean;
}

export function buildHistory(commands: Command[], keyChoice: number[], batchSizes: number[], options: HistoryOptions = {}): History {
  const keyOf = (id: number): string | null => KEYS[(keyChoice[id] ?? 0) % KEYS.length] ?? null;
  const offsets = new Map<string, number>();
  const next = (topic: string, kafkaKey: string): SourcePosition => {
    const partition = partitionOf(kafkaKey);
    const k = `${topic}:${partition}`;
    const offset = offsets.get(k) ?? 0;
    offsets.set(k, offset + 1);
    return position(offset, partition, topic);
  };
  const events: DecodedEvent[] = [];
  for (const c of commands) {
    switch (c.kind) {
      case 'create': {
        const id = uuid(c.id);
        const key = keyOf(c.id);
        const createdAt = TIMES[c.created] as string;
        const updatedAt = TIMES[Math.min(TIMES.length - 1, c.created + c.bump)] as string;
        events.push(created({ id, key, created: createdAt, updated: updatedAt, type: 'markdown', data: DATA[c.data] ?? null, metadata_: METADATA[c.meta] ?? null, flow_run_id: uuid(100 + c.id) }, next('prefect.artifacts', key ?? id)));
        break;
      }
      case 'update': {
        const id = uuid(c.id);
        const key = keyOf(c.id);
        const fields: { data?: string | null; description?: string | null; metadata_?: string | null } = {};
        if (c.fields.data !== undefined) fields.data = DATA[c.fields.data] ?? null;
        if (c.fields.description !== undefined) fields.description = c.fields.description;
        if (c.fields.meta !== undefined) fields.metadata_ = METADATA[c.fields.meta] ?? null;
        events.push(updated({ id, key, updated: TIMES[c.updated] as string, ...fields }, next('prefect.artifacts', key ?? id)));
        break;
      }
      case 'delete': {
        const id = uuid(c.id);
        const key = c.withKey || options.contractKeys ? keyOf(c.id) : null;
        events.push(deleted({ id, key }, next('prefect.artifacts', key ?? id), at(10)));
        break;
      }
      case 'redeliver': {
        if (events.length && !options.contractKeys) events.push(events[c.index % events.length] as DecodedEvent);
        break;
      }
      case 'resend': {
        if (!events.length) break;
        const original = events[c.index % events.length] as DecodedEvent;
        const d = original.data as { id: string; key?: string | null };
        const kafkaKey = original.position.topic === 'prefect.artifacts' ? (d.key ?? d.id) : d.id;
        events.push({ ...original, position: next(original.position.topic, kafkaKey) });
        break;
      }
      case 'run': {
        const entity = RUN_TYPES[c.entity] ?? 'flow';
        const id = uuid(200 + c.entity * 10 + c.id);
        const where = next('prefect.runs', id);
        const upd = TIMES[c.updated] as string;
        if (c.del) {
          events.push(entityDeleted(`prefect.${entity}.deleted`, { id, updated: upd }, where));
        } else if (entity === 'flow') {
          events.push(flowUpserted({ id, updated: upd, name: `f${c.name}`, tags: c.name ? ['x', `t${c.name}`] : [] }, where));
        } else if (entity === 'deployment') {
          events.push(deploymentUpserted({ id, updated: upd, paused: c.name === 1, concurrency_limit: c.name || null }, where));
        } else if (entity === 'flow-run') {
          events.push(flowRunUpserted({ id, updated: upd, state_type: 'RUNNING', state_name: `s${c.name}`, created_by: c.name ? { id: null, type: 'USER', display_value: 'me' } : null }, where));
        } else {
          events.push(taskRunUpserted({ id, updated: upd, start_time: TIMES[c.name] ?? null, tags: ['a,b', '"q"'] }, where));
        }
        break;
      }
    }
  }
  const batches: DecodedEvent[][] = [];
  for (let i = 0, b = 0; i < events.length; b++) {
    const size = Math.max(1, batchSizes.length ? (batchSizes[b % batchSizes.length] as number) : events.length);
    batches.push(events.slice(i, i + size));
    i += size;
  }
  return { events, batches };
}

export function historyArbitrary(maxCommands = 40, options: HistoryOptions = {}): fc.Arbitrary<History> {
  return fc
    .tuple(fc.array(command, { maxLength: maxCommands }), fc.array(fc.nat({ max: 3 }), { minLength: 8, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 6 }))
    .map(([commands, keyChoice, batchSizes]) => buildHistory(commands, keyChoice, batchSizes, options));
}
