import type { DecodedEvent } from '@app/contracts';
import { artifactLoadQueries, ArtifactLoadRequest, artifactLoadRequest, ArtifactLoadedRows, ArtifactWrites, planArtifacts } from './artifacts.projection';
import { planRuns, RunWrites, writtenFlowRuns, writtenFlows } from './runs.projection';
import { Row, SqlExecutor, SqlStatement, withArrayLiterals } from './sql';
import { BatchStats, mergeStats } from './stats';

export type LoadName = keyof ArtifactLoadedRows;
export type LoadQueries = Partial<Record<LoadName, SqlStatement>>;
export type LoadedRows = Partial<Record<LoadName, readonly Row[]>>;

export interface BatchPlan {
  /** Execute in order, after the loads, in the same transaction. */
  statements: SqlStatement[];
  stats: BatchStats;
  artifacts: ArtifactWrites;
  runs: RunWrites;
}

/** Step 1: what to read for this batch (empty for a batch of run events only). Run each and pass the rows to planBatch under the same name. */
export function loadQueries(events: readonly DecodedEvent[], request = artifactLoadRequest(events)): LoadQueries {
  if (request === null) return {};
  const { versions, ...rest } = artifactLoadQueries(request);
  return versions === null ? rest : { ...rest, versions };
}

/** Step 2, pure: the writes of the batch, given the rows the load queries returned (`request`: the batch's artifactLoadRequest, if already computed). */
export function planBatch(events: readonly DecodedEvent[], loaded: LoadedRows, request: ArtifactLoadRequest | null = artifactLoadRequest(events)): BatchPlan {
  const needsArtifacts = request !== null;
  const rows = (name: LoadName, optional = false): readonly Row[] => {
    const found = loaded[name];
    if (found) return found;
    if (optional || !needsArtifacts) return [];
    throw new Error(`planBatch: the "${name}" load was not run`);
  };
  const artifacts = planArtifacts(
    events,
    { artifacts: rows('artifacts'), tombstones: rows('tombstones'), collections: rows('collections'), versions: rows('versions', true) },
    request,
  );
  const runs = planRuns(events);
  const lock = runLock(artifacts.writes, runs.writes);
  return {
    statements: [...(lock ? [lock] : []), ...artifacts.statements, ...runs.statements],
    stats: mergeStats(artifacts.stats, runs.stats),
    artifacts: artifacts.writes,
    runs: runs.writes,
  };
}

// One transaction-level advisory lock between the writers of collection rows and
// versions (shared: they read their runs' flow, deployment, state and tags and the
// flow's tags) and the writers of flow runs and flows (exclusive: they rewrite those
// copies), taken before either
// writes. Under READ COMMITTED, a collection written while a new run commits
// elsewhere would otherwise keep NULL copies, and a version inserted or deleted
// while its run changes state would be tallied under the wrong state (migration
// 1700000000100): each side's statement would miss the other's uncommitted row.
// Batches of the same kind as before still run side by side.
const RUN_LOCK_ID = 727_311_003;

function runLock(artifacts: ArtifactWrites, runs: RunWrites): SqlStatement | null {
  if (writtenFlowRuns(runs).length || writtenFlows(runs).length) return { text: 'SELECT pg_advisory_xact_lock($1::int8)', values: [RUN_LOCK_ID] };
  if (artifacts.collectionUpserts.length || artifacts.inserts.length || artifacts.deletes.length) return { text: 'SELECT pg_advisory_xact_lock_shared($1::int8)', values: [RUN_LOCK_ID] };
  return null;
}

/** Loads, plans and writes one batch with the caller's transaction. The runner still owns the transaction and the checkpoint. */
export async function projectBatch(sql: SqlExecutor, events: readonly DecodedEvent[]): Promise<BatchStats> {
  const request = artifactLoadRequest(events);
  const loaded: LoadedRows = {};
  for (const [name, statement] of Object.entries(loadQueries(events, request)) as [LoadName, SqlStatement][]) {
    loaded[name] = (await sql.query(withArrayLiterals(statement))).rows;
  }
  const plan = planBatch(events, loaded, request);
  for (const statement of plan.statements) await sql.query(withArrayLiterals(statement));
  return plan.stats;
}
