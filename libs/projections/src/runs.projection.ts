import { DecodedEvent, RUN_EVENT_TYPES, RunEventType, ValueKind } from '@app/contracts';
import { RUN_COLUMNS, RUN_EVENT_TARGET, RUN_TABLES, runRow, RunRows, RunTable } from './run-tables';
import { ARRAY_TYPE, compareText, SqlStatement } from './sql';
import { BatchStats, count, emptyStats } from './stats';

// Flows, deployments, flow runs and task runs: snapshots, last writer wins on
// `updated`, deletes leave a tombstone. Needs no reads: every write is guarded
// in SQL. A batch folds per entity to the event with the greatest `updated`
// (ties: the later one) plus the greatest delete time for the tombstone, which
// ends in the same rows as applying the events one by one.

export type RunEvent = DecodedEvent<RunEventType>;

const RUN_TYPES: ReadonlySet<string> = new Set(RUN_EVENT_TYPES);

export function isRunEvent(event: DecodedEvent): event is RunEvent {
  return RUN_TYPES.has(event.type);
}

export interface RunTableWrites<T extends RunTable> {
  tombstones: { id: string; updated: string }[];
  upserts: RunRows[T][];
  deletes: { id: string; updated: string }[];
}

export type RunWrites = { [T in RunTable]: RunTableWrites<T> };

export interface RunPlan {
  writes: RunWrites;
  statements: SqlStatement[];
  stats: BatchStats;
}

interface Folded {
  table: RunTable;
  id: string;
  winner: RunEvent;
  latestDelete: string | null;
}

export function planRuns(events: readonly DecodedEvent[]): RunPlan {
  const stats = emptyStats();
  const folded = new Map<string, Folded>();
  let seen = 0;
  for (const event of events) {
    if (!isRunEvent(event)) continue;
    seen++;
    const { table, op } = RUN_EVENT_TARGET[event.type];
    const { id, updated } = event.data;
    const k = `${table}:${id}`;
    let entry = folded.get(k);
    if (!entry) {
      entry = { table, id, winner: event, latestDelete: null };
      folded.set(k, entry);
    } else if (updated >= entry.winner.data.updated) {
      entry.winner = event;
    }
    if (op === 'delete' && (entry.latestDelete === null || updated > entry.latestDelete)) entry.latestDelete = updated;
  }
  const writes = Object.fromEntries(RUN_TABLES.map((t) => [t, { tombstones: [], upserts: [], deletes: [] }])) as unknown as RunWrites;
  for (const entry of [...folded.values()].sort((a, b) => compareText(a.id, b.id))) {
    const w = writes[entry.table] as RunTableWrites<RunTable>;
    if (entry.latestDelete !== null) w.tombstones.push({ id: entry.id, updated: entry.latestDelete });
    const { table, op } = RUN_EVENT_TARGET[entry.winner.type];
    if (op === 'upsert') w.upserts.push(runRow(table, entry.winner.data as RunRows[typeof table]));
    else w.deletes.push({ id: entry.id, updated: entry.winner.data.updated });
    count(stats.applied, entry.winner.type);
  }
  if (seen > folded.size) count(stats.ignored, 'superseded', seen - folded.size);
  return { writes, statements: runStatements(writes), stats };
}


function upsertText(table: RunTable): string {
  const columns = RUN_COLUMNS[table];
  const names = columns.map(([name]) => name);
  const params = columns.map(([, kind], i) => `$${i + 1}::${ARRAY_TYPE[kind]}`).join(', ');
  const select = columns
    .map(([name, kind]) => (kind === 'tags' ? `ARRAY(SELECT e FROM json_array_elements_text(u.${name}) WITH ORDINALITY AS x(e, i) ORDER BY i)` : `u.${name}`))
    .join(', ');
  const set = names
    .filter((n) => n !== 'id')
    .map((n) => `${n} = excluded.${n}`)
    .join(', ');
  // The tombstone check keeps an older late snapshot from reviving a deleted entity; a newer one does revive it.
  return `INSERT INTO ${table} AS t (${names.join(', ')})
SELECT ${select}
FROM unnest(${params}) WITH ORDINALITY AS u(${names.join(', ')}, n)
WHERE NOT EXISTS (SELECT 1 FROM tombstone ts WHERE ts.entity = '${table}' AND ts.id = u.id AND ts.updated > u.updated)
ORDER BY u.n
ON CONFLICT (id) DO UPDATE SET ${set}
WHERE t.updated <= excluded.updated`;
}

function tombstoneText(table: RunTable): string {
  return `INSERT INTO tombstone (entity, id, updated)
SELECT '${table}', t.id, t.updated FROM unnest($1::uuid[], $2::timestamptz[]) AS t(id, updated)
ON CONFLICT (entity, id) DO UPDATE SET updated = excluded.updated WHERE tombstone.updated < excluded.updated`;
}

function deleteText(table: RunTable): string {
  return `DELETE FROM ${table} AS t USING unnest($1::uuid[], $2::timestamptz[]) AS d(id, updated)
WHERE t.id = d.id AND t.updated <= d.updated`;
}

const SQL = Object.fromEntries(
  RUN_TABLES.map((table) => [table, { upsert: upsertText(table), tombstone: tombstoneText(table), delete: deleteText(table) }]),
) as Record<RunTable, { upsert: string; tombstone: string; delete: string }>;

function columnValue(kind: ValueKind, value: unknown): unknown {
  if (kind === 'tags') return JSON.stringify(value);
  if (kind === 'object') return value === null ? null : JSON.stringify(value);
  return value;
}

// The versions and collection rows of the written flow runs take their run's copies
// again (NULL once the run, or the flow, is deleted): the versions the run's deployment
// (migration 1700000000130), the collection rows its flow, deployment, state type and
// tags and its flow's tags (080 and 120); those of the written flows their flow's tags.
const RUN_COPIES_SYNC = `WITH versions AS (
  UPDATE artifact AS a SET run_deployment_id = fr.deployment_id
  FROM unnest($1::uuid[]) AS u(id) LEFT JOIN flow_run fr ON fr.id = u.id
  WHERE a.flow_run_id = u.id AND a.run_deployment_id IS DISTINCT FROM fr.deployment_id
)
UPDATE artifact_collection AS c
SET run_flow_id = fr.flow_id, run_deployment_id = fr.deployment_id, run_state_type = fr.state_type, run_tags = fr.tags, run_flow_tags = fl.tags
FROM unnest($1::uuid[]) AS u(id) LEFT JOIN flow_run fr ON fr.id = u.id LEFT JOIN flow fl ON fl.id = fr.flow_id
WHERE c.flow_run_id = u.id
  AND (c.run_flow_id, c.run_deployment_id, c.run_state_type, c.run_tags, c.run_flow_tags)
    IS DISTINCT FROM (fr.flow_id, fr.deployment_id, fr.state_type, fr.tags, fl.tags)`;

const COLLECTION_FLOW_SYNC = `UPDATE artifact_collection AS c
SET run_flow_tags = fl.tags
FROM unnest($1::uuid[]) AS u(id) LEFT JOIN flow fl ON fl.id = u.id
WHERE c.run_flow_id = u.id AND c.run_flow_tags IS DISTINCT FROM fl.tags`;

/** Rewrites the copies of these flow runs' columns on their versions and collection rows from the runs (NULL for a run that does not exist). */
export function runCopiesSync(flowRunIds: readonly string[]): SqlStatement {
  return { text: RUN_COPIES_SYNC, values: [flowRunIds] };
}

/** Rewrites the flow tags of the collection rows whose run belongs to these flows (NULL for a flow that does not exist). */
export function collectionFlowSync(flowIds: readonly string[]): SqlStatement {
  return { text: COLLECTION_FLOW_SYNC, values: [flowIds] };
}

/** The flow runs a batch writes (upserts and deletes), sorted; the copies of their columns are rewritten. */
export function writtenFlowRuns(writes: RunWrites): string[] {
  return writtenIds(writes.flow_run);
}

/** The flows a batch writes (upserts and deletes), sorted; the collections of their runs take their tags again. */
export function writtenFlows(writes: RunWrites): string[] {
  return writtenIds(writes.flow);
}

function writtenIds(w: RunTableWrites<RunTable>): string[] {
  return [...new Set([...w.upserts.map((r) => r.id), ...w.deletes.map((d) => d.id)])].sort(compareText);
}

/** Per table: tombstones, then upserts, then deletes (one statement each, rows sorted by id); then the copies of the written flow runs' and flows' columns. */
export function runStatements(writes: RunWrites): SqlStatement[] {
  const out: SqlStatement[] = [];
  for (const table of RUN_TABLES) {
    const w = writes[table] as RunTableWrites<RunTable>;
    if (w.tombstones.length) {
      out.push({ text: SQL[table].tombstone, values: [w.tombstones.map((t) => t.id), w.tombstones.map((t) => t.updated)] });
    }
    if (w.upserts.length) {
      const rows = w.upserts as unknown as Record<string, unknown>[];
      out.push({ text: SQL[table].upsert, values: RUN_COLUMNS[table].map(([name, kind]) => rows.map((r) => columnValue(kind, r[name]))) });
    }
    if (w.deletes.length) out.push({ text: SQL[table].delete, values: [w.deletes.map((d) => d.id), w.deletes.map((d) => d.updated)] });
  }
  const runs = writtenFlowRuns(writes);
  if (runs.length) out.push(runCopiesSync(runs));
  const flows = writtenFlows(writes);
  if (flows.length) out.push(collectionFlowSync(flows));
  return out;
}
