import type { DecodedEvent } from '@app/contracts';
import { artifactLoadRequest } from '../artifacts.projection';
import type { BatchPlan, LoadedRows } from '../batch';
import { ArtifactRow, compareVersions, ReadModel, tombstoneKey } from '../model';
import { RUN_TABLES, RunRow, RunTable } from '../run-tables';
import type { RunTableWrites, RunWrites } from '../runs.projection';
import type { Row } from '../sql';

// An in-memory stand-in for PostgreSQL that answers the planner's load queries
// and executes its writes with the same semantics as the SQL (ON CONFLICT, the
// guards, the collection copy join). Lets fast-check compare batches with the
// reference fold without a database; the integration spec checks the SQL itself.

const versionRow = (a: ArtifactRow): Row => ({ id: a.id, key: a.key, created: a.created, updated: a.updated, src_offset: a.src_offset });

export function loadFromModel(model: ReadModel, events: readonly DecodedEvent[]): LoadedRows {
  const request = artifactLoadRequest(events);
  if (request === null) return {};
  const artifacts = request.ids.flatMap((id) => {
    const a = model.artifact.get(id);
    return a ? [versionRow(a)] : [];
  });
  const tombstones = request.ids.filter((id) => model.tombstone.has(tombstoneKey('artifact', id))).map((id) => ({ id }));
  const keys = new Set(request.createdKeys);
  for (const id of request.ids) {
    const key = model.artifact.get(id)?.key;
    if (key !== undefined && key !== null) keys.add(key);
  }
  const collections = [...keys].flatMap((key) => {
    const c = model.artifact_collection.get(key);
    if (!c) return [];
    const latest = model.artifact.get(c.latest_id);
    return [{ key, created: c.created, latest_id: c.latest_id, latest_created: latest?.created ?? null, latest_offset: latest?.src_offset ?? null }];
  });
  const limits = new Map<string | null, number>();
  for (const d of request.deletes) {
    const stored = model.artifact.get(d.id);
    const key = stored ? stored.key : d.key;
    limits.set(key, (limits.get(key) ?? 1) + 1);
  }
  const versions: Row[] = [];
  for (const [key, n] of limits) {
    if (key === null) continue;
    const ofKey = [...model.artifact.values()].filter((a) => a.key === key).sort((a, b) => compareVersions(b, a));
    versions.push(...ofKey.slice(0, n).map(versionRow));
  }
  const loaded: LoadedRows = { artifacts, tombstones, collections };
  if (request.deletes.length) loaded.versions = versions;
  return loaded;
}

function applyRunWrites(model: ReadModel, writes: RunWrites): void {
  for (const table of RUN_TABLES) {
    const w = writes[table] as RunTableWrites<RunTable>;
    const rows = model[table] as Map<string, RunRow>;
    for (const t of w.tombstones) {
      const k = tombstoneKey(table, t.id);
      const existing = model.tombstone.get(k);
      if (!existing || existing.updated < t.updated) model.tombstone.set(k, { entity: table, id: t.id, updated: t.updated });
    }
    for (const row of w.upserts) {
      const tomb = model.tombstone.get(tombstoneKey(table, row.id));
      const stored = rows.get(row.id);
      if ((tomb && tomb.updated > row.updated) || (stored && stored.updated > row.updated)) continue;
      rows.set(row.id, { ...row });
    }
    for (const d of w.deletes) {
      const stored = rows.get(d.id);
      if (stored && stored.updated <= d.updated) rows.delete(d.id);
    }
  }
}

export function applyPlanToModel(model: ReadModel, plan: BatchPlan): void {
  const w = plan.artifacts;
  for (const row of w.inserts) if (!model.artifact.has(row.id)) model.artifact.set(row.id, { ...row });
  for (const p of w.patches) {
    const row = model.artifact.get(p.id);
    if (!row || row.updated > p.updated) continue;
    row.updated = p.updated;
    if (p.data !== undefined) row.data = p.data;
    if (p.description !== undefined) row.description = p.description;
    if (p.metadata_ !== undefined) row.metadata_ = p.metadata_;
  }
  for (const id of w.deletes) model.artifact.delete(id);
  for (const t of w.tombstones) {
    const k = tombstoneKey('artifact', t.id);
    if (!model.tombstone.has(k)) model.tombstone.set(k, { entity: 'artifact', id: t.id, updated: t.updated });
  }
  for (const key of w.collectionDeletes) model.artifact_collection.delete(key);
  for (const u of w.collectionUpserts) {
    const a = model.artifact.get(u.latest_id);
    if (!a) continue;
    model.artifact_collection.set(u.key, {
      id: u.id,
      created: u.created,
      updated: a.updated,
      key: u.key,
      latest_id: a.id,
      type: a.type,
      description: a.description,
      data: a.data,
      metadata_: a.metadata_,
      flow_run_id: a.flow_run_id,
      task_run_id: a.task_run_id,
    });
  }
  applyRunWrites(model, plan.runs);
}
