import type { ArtifactCreated, DecodedEvent } from '@app/contracts';
import { collectionId } from './collection-id';
import { RUN_EVENT_TARGET, RUN_TABLES, runRow, RunRow, RunRows, RunTable } from './run-tables';
import { compareText } from './sql';

// The reference fold ("oracle"): applies an ordered event log, one event at a
// time, to in-memory copies of the tables, following docs/events.md and Prefect's
// lifecycle (docs/api.md §10) as literally as possible. The batch planners must
// end in the same tables; tests and reliability checks compare against this.

/** A stored version: the decoded create payload (updates change its fields) and the position of its create. */
export interface ArtifactRow extends ArtifactCreated {
  src_partition: number;
  src_offset: string;
}

/** A key's row: its own id, and the fields of its latest version (`latest_id`), whose key is never null here. */
export interface ArtifactCollectionRow extends ArtifactCreated {
  key: string;
  latest_id: string;
}

export interface TombstoneRow {
  entity: string;
  id: string;
  updated: string;
}

export interface ReadModel {
  artifact: Map<string, ArtifactRow>;
  /** By key. */
  artifact_collection: Map<string, ArtifactCollectionRow>;
  flow: Map<string, RunRows['flow']>;
  deployment: Map<string, RunRows['deployment']>;
  flow_run: Map<string, RunRows['flow_run']>;
  task_run: Map<string, RunRows['task_run']>;
  /** By `${entity}:${id}`. */
  tombstone: Map<string, TombstoneRow>;
}

/** The tables as sorted row arrays (artifacts, runs and tombstones by id, collections by key): comparable with toEqual. */
export interface ReadModelTables {
  artifact: ArtifactRow[];
  artifact_collection: ArtifactCollectionRow[];
  flow: RunRows['flow'][];
  deployment: RunRows['deployment'][];
  flow_run: RunRows['flow_run'][];
  task_run: RunRows['task_run'][];
  tombstone: TombstoneRow[];
}

export function emptyModel(): ReadModel {
  return {
    artifact: new Map(),
    artifact_collection: new Map(),
    flow: new Map(),
    deployment: new Map(),
    flow_run: new Map(),
    task_run: new Map(),
    tombstone: new Map(),
  };
}

export function tombstoneKey(entity: string, id: string): string {
  return `${entity}:${id}`;
}

/** (created, offset) order of versions of one key: the latest is the greatest. */
export function compareVersions(a: { created: string; src_offset: string }, b: { created: string; src_offset: string }): number {
  const byCreated = compareText(a.created, b.created);
  if (byCreated !== 0) return byCreated;
  const ao = BigInt(a.src_offset);
  const bo = BigInt(b.src_offset);
  return ao < bo ? -1 : ao > bo ? 1 : 0;
}

function copyIntoCollection(row: ArtifactCollectionRow, version: ArtifactRow): void {
  row.latest_id = version.id;
  row.updated = version.updated;
  row.type = version.type;
  row.description = version.description;
  row.data = version.data;
  row.metadata_ = version.metadata_;
  row.flow_run_id = version.flow_run_id;
  row.task_run_id = version.task_run_id;
}

// Ids of the versions of each key, beside model.artifact (built on first use), so that a
// delete of a key's latest version looks at that key's versions only, not at every row:
// a long soak folds hundreds of thousands of events.
const versionIds = new WeakMap<Map<string, ArtifactRow>, Map<string, Set<string>>>();

function versionsOfKeys(model: ReadModel): Map<string, Set<string>> {
  let index = versionIds.get(model.artifact);
  if (!index) {
    index = new Map();
    for (const row of model.artifact.values()) if (row.key !== null) addVersion(index, row.key, row.id);
    versionIds.set(model.artifact, index);
  }
  return index;
}

function addVersion(index: Map<string, Set<string>>, key: string, id: string): void {
  const ids = index.get(key);
  if (ids) ids.add(id);
  else index.set(key, new Set([id]));
}

function applyArtifactCreated(model: ReadModel, event: DecodedEvent<'prefect.artifact.created'>): void {
  const p = event.data;
  // A replayed create changes nothing; a deleted id is never revived.
  if (model.artifact.has(p.id) || model.tombstone.has(tombstoneKey('artifact', p.id))) return;
  const version: ArtifactRow = { ...p, src_partition: event.position.partition, src_offset: event.position.offset };
  model.artifact.set(p.id, version);
  if (p.key === null) return;
  addVersion(versionsOfKeys(model), p.key, p.id);
  const collection = model.artifact_collection.get(p.key);
  if (!collection) {
    const row = { id: collectionId(p.key), created: p.created, key: p.key } as ArtifactCollectionRow;
    copyIntoCollection(row, version);
    model.artifact_collection.set(p.key, row);
    return;
  }
  const latest = model.artifact.get(collection.latest_id);
  if (!latest || compareVersions(version, latest) > 0) copyIntoCollection(collection, version);
}

function applyArtifactUpdated(model: ReadModel, event: DecodedEvent<'prefect.artifact.updated'>): void {
  const p = event.data;
  const version = model.artifact.get(p.id);
  if (!version || version.updated > p.updated) return;
  if (p.data !== undefined) version.data = p.data;
  if (p.description !== undefined) version.description = p.description;
  if (p.metadata_ !== undefined) version.metadata_ = p.metadata_;
  version.updated = p.updated;
  const collection = version.key === null ? undefined : model.artifact_collection.get(version.key);
  if (collection && collection.latest_id === p.id) copyIntoCollection(collection, version);
}

function applyArtifactDeleted(model: ReadModel, event: DecodedEvent<'prefect.artifact.deleted'>): void {
  const p = event.data;
  const version = model.artifact.get(p.id);
  if (!version) return;
  model.artifact.delete(p.id);
  model.tombstone.set(tombstoneKey('artifact', p.id), { entity: 'artifact', id: p.id, updated: p.updated ?? event.time });
  if (version.key === null) return;
  const ids = versionsOfKeys(model).get(version.key);
  ids?.delete(p.id);
  const collection = model.artifact_collection.get(version.key);
  if (!collection || collection.latest_id !== p.id) return;
  let promoted: ArtifactRow | undefined;
  for (const id of ids ?? []) {
    const other = model.artifact.get(id);
    if (other?.key === version.key && (!promoted || compareVersions(other, promoted) > 0)) promoted = other;
  }
  if (!promoted) {
    model.artifact_collection.delete(version.key);
    return;
  }
  // Prefect's delete fallback copies the promoted version's created and updated too (§10.3).
  copyIntoCollection(collection, promoted);
  collection.created = promoted.created;
}

function runTable(model: ReadModel, table: RunTable): Map<string, RunRow> {
  return model[table];
}

function applyRunEvent(model: ReadModel, event: DecodedEvent): void {
  const target = RUN_EVENT_TARGET[event.type as keyof typeof RUN_EVENT_TARGET];
  const rows = runTable(model, target.table);
  const { id, updated } = event.data as { id: string; updated: string };
  const stored = rows.get(id);
  const tombKey = tombstoneKey(target.table, id);
  const tomb = model.tombstone.get(tombKey);
  if (target.op === 'upsert') {
    if ((tomb && tomb.updated > updated) || (stored && stored.updated > updated)) return;
    rows.set(id, runRow(target.table, event.data as RunRows[typeof target.table]));
    return;
  }
  if (!tomb || tomb.updated < updated) model.tombstone.set(tombKey, { entity: target.table, id, updated });
  if (stored && stored.updated <= updated) rows.delete(id);
}

/** Applies one event to the model (mutates it). */
export function applyEvent(model: ReadModel, event: DecodedEvent): void {
  switch (event.type) {
    case 'prefect.artifact.created':
      return applyArtifactCreated(model, event);
    case 'prefect.artifact.updated':
      return applyArtifactUpdated(model, event);
    case 'prefect.artifact.deleted':
      return applyArtifactDeleted(model, event);
    default:
      return applyRunEvent(model, event);
  }
}

/** Folds an ordered event log into a model (a new empty one by default). */
export function foldEvents(events: Iterable<DecodedEvent>, model: ReadModel = emptyModel()): ReadModel {
  for (const event of events) applyEvent(model, event);
  return model;
}

function sortedBy<T>(rows: Iterable<T>, key: (row: T) => string): T[] {
  return [...rows].sort((a, b) => compareText(key(a), key(b)));
}

export function modelTables(model: ReadModel): ReadModelTables {
  const tables = {
    artifact: sortedBy(model.artifact.values(), (r) => r.id).map((r) => ({ ...r })),
    artifact_collection: sortedBy(model.artifact_collection.values(), (r) => r.key).map((r) => ({ ...r })),
    tombstone: sortedBy(model.tombstone.values(), (r) => tombstoneKey(r.entity, r.id)).map((r) => ({ ...r })),
  } as ReadModelTables;
  for (const table of RUN_TABLES) (tables as unknown as Record<string, RunRow[]>)[table] = sortedBy(runTable(model, table).values(), (r) => r.id).map((r) => ({ ...r }));
  return tables;
}
