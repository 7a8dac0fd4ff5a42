import { ARTIFACT_EVENT_TYPES, ArtifactEventType, ArtifactUpdated, DecodedEvent, payloadKinds } from '@app/contracts';
import { collectionId } from './collection-id';
import type { ArtifactRow } from './model';
import { ARRAY_TYPE, compareText, Row, SqlStatement, str, strOrNull, timestampText } from './sql';
import { BatchStats, count, emptyStats } from './stats';

// Artifacts and latest-per-key collections, planned per batch:
//   1. artifactLoadRequest(events) → artifactLoadQueries(): what to read (derived from the batch alone);
//   2. planArtifacts(events, loadedRows): replays the batch in memory over the
//      loaded rows and returns one batched statement per kind of write.
// The collection row is written by copying from the final artifact row in SQL:
// its copied fields and `updated` always equal its latest version's, so only
// (key, latest_id, created) is decided here.

export type ArtifactEvent = DecodedEvent<ArtifactEventType>;

const ARTIFACT_TYPES: ReadonlySet<string> = new Set(ARTIFACT_EVENT_TYPES);

export function isArtifactEvent(event: DecodedEvent): event is ArtifactEvent {
  return ARTIFACT_TYPES.has(event.type);
}

export interface ArtifactLoadRequest {
  /** Every artifact id the batch names. */
  ids: string[];
  /** Keys of the batch's creates. */
  createdKeys: string[];
  /** One entry per delete: the key of the batch's create of that id, else the event's key (the stored row's key wins in SQL). */
  deletes: { id: string; key: string | null }[];
}

export function artifactLoadRequest(events: readonly DecodedEvent[]): ArtifactLoadRequest | null {
  const ids = new Set<string>();
  const createdKeys = new Set<string>();
  const createdKeyOf = new Map<string, string | null>();
  const deletes: { id: string; key: string | null }[] = [];
  for (const event of events) {
    if (!isArtifactEvent(event)) continue;
    ids.add(event.data.id);
    if (event.type === 'prefect.artifact.created') {
      if (event.data.key !== null) createdKeys.add(event.data.key);
      if (!createdKeyOf.has(event.data.id)) createdKeyOf.set(event.data.id, event.data.key);
    } else if (event.type === 'prefect.artifact.deleted') {
      const created = createdKeyOf.get(event.data.id);
      deletes.push({ id: event.data.id, key: created !== undefined ? created : event.data.key });
    }
  }
  if (ids.size === 0) return null;
  return { ids: [...ids], createdKeys: [...createdKeys], deletes };
}

export interface ArtifactLoadQueries {
  artifacts: SqlStatement;
  tombstones: SqlStatement;
  collections: SqlStatement;
  /** Null when the batch has no delete. */
  versions: SqlStatement | null;
}

export interface ArtifactLoadedRows {
  /** id, key, created, updated, src_offset */
  artifacts: readonly Row[];
  /** id */
  tombstones: readonly Row[];
  /** key, created, latest_id, latest_created, latest_offset */
  collections: readonly Row[];
  /** id, key, created, updated, src_offset */
  versions: readonly Row[];
}

const VERSION_COLUMNS = (a: string) =>
  `${a}.id, ${a}.key, ${timestampText(`${a}.created`)} AS created, ${timestampText(`${a}.updated`)} AS updated, ${a}.src_offset::text AS src_offset`;

const LOAD_ARTIFACTS = `SELECT ${VERSION_COLUMNS('a')} FROM artifact a WHERE a.id = ANY($1::uuid[])`;

const LOAD_TOMBSTONES = `SELECT id FROM tombstone WHERE entity = 'artifact' AND id = ANY($1::uuid[])`;

// ARRAY(...) is evaluated once, so the key lookup stays an index scan.
const LOAD_COLLECTIONS = `SELECT c.key, ${timestampText('c.created')} AS created, c.latest_id,
  ${timestampText('a.created')} AS latest_created, a.src_offset::text AS latest_offset
FROM artifact_collection c LEFT JOIN artifact a ON a.id = c.latest_id
WHERE c.key = ANY($1::text[] || ARRAY(SELECT s.key FROM artifact s WHERE s.id = ANY($2::uuid[]) AND s.key IS NOT NULL))`;

// Fallback candidates: deleting d versions of a key removes at most d stored
// versions, so the greatest survivor is among its d + 1 greatest (created, offset).
const LOAD_VERSIONS = `WITH d AS (SELECT * FROM unnest($1::uuid[], $2::text[]) AS d(id, key)),
k AS (
  SELECT CASE WHEN a.id IS NULL THEN d.key ELSE a.key END AS key, count(*)::int + 1 AS n
  FROM d LEFT JOIN artifact a ON a.id = d.id
  GROUP BY 1
)
SELECT ${VERSION_COLUMNS('v')}
FROM k CROSS JOIN LATERAL (
  SELECT x.* FROM artifact x WHERE x.key = k.key ORDER BY x.created DESC, x.src_offset DESC LIMIT k.n
) v
WHERE k.key IS NOT NULL`;

export function artifactLoadQueries(request: ArtifactLoadRequest): ArtifactLoadQueries {
  return {
    artifacts: { text: LOAD_ARTIFACTS, values: [request.ids] },
    tombstones: { text: LOAD_TOMBSTONES, values: [request.ids] },
    collections: { text: LOAD_COLLECTIONS, values: [request.createdKeys, request.ids] },
    versions:
      request.deletes.length === 0
        ? null
        : { text: LOAD_VERSIONS, values: [request.deletes.map((d) => d.id), request.deletes.map((d) => d.key)] },
  };
}

export type ArtifactPatch = Pick<ArtifactUpdated, 'id' | 'updated' | 'data' | 'description' | 'metadata_'>;

/** The writes of one batch, each list sorted by its conflict key. */
export interface ArtifactWrites {
  inserts: ArtifactRow[];
  patches: ArtifactPatch[];
  deletes: string[];
  tombstones: { id: string; updated: string }[];
  collectionDeletes: string[];
  collectionUpserts: { key: string; id: string; latest_id: string; created: string }[];
}

export interface ArtifactPlan {
  writes: ArtifactWrites;
  /** Execute in this order, after the load queries, in the same transaction. */
  statements: SqlStatement[];
  stats: BatchStats;
}

interface Version {
  id: string;
  key: string | null;
  created: string;
  updated: string;
  offset: bigint;
  stored: boolean;
  live: boolean;
}

interface Latest {
  created: string;
  latestId: string;
  latestCreated: string | null;
  latestOffset: bigint;
}

/** (created, offset) order; a collection whose latest row is missing (created null) takes any version. */
function newer(a: { created: string; offset: bigint }, b: { created: string | null; offset: bigint }): boolean {
  if (b.created === null) return true;
  if (a.created !== b.created) return a.created > b.created;
  return a.offset > b.offset;
}

function storedVersion(row: Row): Version {
  return {
    id: str(row.id),
    key: strOrNull(row.key),
    created: str(row.created),
    updated: str(row.updated),
    offset: BigInt(str(row.src_offset)),
    stored: true,
    live: true,
  };
}

export function planArtifacts(events: readonly DecodedEvent[], loaded: ArtifactLoadedRows, request = artifactLoadRequest(events)): ArtifactPlan {
  const stats = emptyStats();
  const writes: ArtifactWrites = { inserts: [], patches: [], deletes: [], tombstones: [], collectionDeletes: [], collectionUpserts: [] };
  if (request === null) return { writes, statements: [], stats };

  const versions = new Map<string, Version>();
  for (const row of loaded.artifacts) versions.set(str(row.id), storedVersion(row));
  const tombstoned = new Set(loaded.tombstones.map((row) => str(row.id)));
  const collections = new Map<string, Latest | null>();
  for (const row of loaded.collections) {
    collections.set(str(row.key), {
      created: str(row.created),
      latestId: str(row.latest_id),
      latestCreated: strOrNull(row.latest_created),
      latestOffset: row.latest_offset === null || row.latest_offset === undefined ? -1n : BigInt(str(row.latest_offset)),
    });
  }
  const storedCollections = new Set(collections.keys());
  const candidates = new Map<string, Map<string, Version>>();
  for (const d of request.deletes) {
    const key = versions.has(d.id) ? (versions.get(d.id)?.key ?? null) : d.key;
    if (key !== null && !candidates.has(key)) candidates.set(key, new Map());
  }
  for (const row of loaded.versions) {
    const version = versions.get(str(row.id)) ?? storedVersion(row);
    if (version.key !== null) candidates.get(version.key)?.set(version.id, version);
  }

  const inserts = new Map<string, ArtifactRow>();
  const patches = new Map<string, ArtifactPatch>();
  const deletes = new Set<string>();
  const tombstones = new Map<string, string>();
  const dirty = new Set<string>();

  for (const event of events) {
    if (!isArtifactEvent(event)) continue;
    const offset = BigInt(event.position.offset);
    switch (event.type) {
      case 'prefect.artifact.created': {
        const p = event.data;
        if (tombstoned.has(p.id)) {
          count(stats.ignored, 'tombstoned');
          break;
        }
        if (versions.get(p.id)?.live) {
          count(stats.ignored, 'duplicate');
          break;
        }
        const version: Version = { id: p.id, key: p.key, created: p.created, updated: p.updated, offset, stored: false, live: true };
        versions.set(p.id, version);
        inserts.set(p.id, {
          id: p.id,
          created: p.created,
          updated: p.updated,
          key: p.key,
          type: p.type,
          description: p.description,
          data: p.data,
          metadata_: p.metadata_,
          flow_run_id: p.flow_run_id,
          task_run_id: p.task_run_id,
          src_partition: event.position.partition,
          src_offset: event.position.offset,
        });
        count(stats.applied, event.type);
        if (p.key === null) break;
        candidates.get(p.key)?.set(p.id, version);
        const latest = collections.get(p.key);
        if (!latest) {
          collections.set(p.key, { created: p.created, latestId: p.id, latestCreated: p.created, latestOffset: offset });
          dirty.add(p.key);
        } else if (newer(version, { created: latest.latestCreated, offset: latest.latestOffset })) {
          latest.latestId = p.id;
          latest.latestCreated = p.created;
          latest.latestOffset = offset;
          dirty.add(p.key);
        }
        break;
      }
      case 'prefect.artifact.updated': {
        const p = event.data;
        const version = versions.get(p.id);
        if (!version?.live) {
          count(stats.ignored, 'unknown_id');
          break;
        }
        // A redelivered or late update must not undo a newer one.
        if (version.updated > p.updated) {
          count(stats.ignored, 'stale');
          break;
        }
        version.updated = p.updated;
        // A version created in this batch is still to be inserted: the update folds into its insert row.
        let target: ArtifactPatch | ArtifactRow | undefined = inserts.get(p.id) ?? patches.get(p.id);
        if (!target) {
          target = { id: p.id, updated: p.updated };
          patches.set(p.id, target);
        }
        target.updated = p.updated;
        if (p.data !== undefined) target.data = p.data;
        if (p.description !== undefined) target.description = p.description;
        if (p.metadata_ !== undefined) target.metadata_ = p.metadata_;
        count(stats.applied, event.type);
        if (version.key !== null && collections.get(version.key)?.latestId === p.id) dirty.add(version.key);
        break;
      }
      case 'prefect.artifact.deleted': {
        const p = event.data;
        const version = versions.get(p.id);
        if (!version?.live) {
          count(stats.ignored, tombstoned.has(p.id) ? 'duplicate' : 'unknown_id');
          break;
        }
        version.live = false;
        tombstoned.add(p.id);
        tombstones.set(p.id, p.updated ?? event.time);
        if (version.stored) {
          deletes.add(p.id);
          patches.delete(p.id);
        } else {
          inserts.delete(p.id);
        }
        count(stats.applied, event.type);
        if (version.key === null) break;
        const latest = collections.get(version.key);
        const live = candidates.get(version.key);
        if (!live) throw new Error(`artifact planner: fallback candidates of key ${JSON.stringify(version.key)} were not loaded`);
        live.delete(p.id);
        if (!latest || latest.latestId !== p.id) break;
        let promoted: Version | undefined;
        for (const candidate of live.values()) if (!promoted || newer(candidate, promoted)) promoted = candidate;
        // Prefect's delete fallback also copies the promoted version's created (and updated) into the collection.
        collections.set(
          version.key,
          promoted ? { created: promoted.created, latestId: promoted.id, latestCreated: promoted.created, latestOffset: promoted.offset } : null,
        );
        dirty.add(version.key);
        break;
      }
    }
  }

  for (const key of [...dirty].sort(compareText)) {
    const latest = collections.get(key);
    if (latest) writes.collectionUpserts.push({ key, id: collectionId(key), latest_id: latest.latestId, created: latest.created });
    else if (storedCollections.has(key)) writes.collectionDeletes.push(key);
  }
  writes.inserts = [...inserts.values()].sort((a, b) => compareText(a.id, b.id));
  writes.patches = [...patches.values()].sort((a, b) => compareText(a.id, b.id));
  writes.deletes = [...deletes].sort(compareText);
  writes.tombstones = [...tombstones].map(([id, updated]) => ({ id, updated })).sort((a, b) => compareText(a.id, b.id));
  return { writes, statements: artifactStatements(writes), stats };
}

// An artifact row is its created payload, then where the create was read.
const INSERT_COLUMNS: readonly (readonly [keyof ArtifactRow, string])[] = [
  ...payloadKinds['prefect.artifact.created'].map(([name, kind]) => [name, ARRAY_TYPE[kind]] as const),
  ['src_partition', 'int4[]'],
  ['src_offset', 'int8[]'],
];

// A version also copies its run's deployment (migration 1700000000130; NULL while the
// run is unknown), read here under the run lock (batch.ts).
const INSERT_NAMES = INSERT_COLUMNS.map(([name]) => name).join(', ');
const INSERT = `INSERT INTO artifact (${INSERT_NAMES}, run_deployment_id)
SELECT u.*, fr.deployment_id FROM unnest(${INSERT_COLUMNS.map(([, type], i) => `$${i + 1}::${type}`).join(', ')}) AS u(${INSERT_NAMES})
LEFT JOIN flow_run fr ON fr.id = u.flow_run_id
ON CONFLICT (id) DO NOTHING`;

const PATCH = `UPDATE artifact AS a SET
  updated = u.updated,
  data = CASE WHEN u.set_data THEN u.data ELSE a.data END,
  description = CASE WHEN u.set_description THEN u.description ELSE a.description END,
  metadata_ = CASE WHEN u.set_metadata THEN u.metadata_ ELSE a.metadata_ END
FROM unnest($1::uuid[], $2::timestamptz[], $3::bool[], $4::json[], $5::bool[], $6::text[], $7::bool[], $8::json[])
  AS u(id, updated, set_data, data, set_description, description, set_metadata, metadata_)
WHERE a.id = u.id AND a.updated <= u.updated`;

const DELETE = `DELETE FROM artifact WHERE id = ANY($1::uuid[])`;

const TOMBSTONE = `INSERT INTO tombstone (entity, id, updated)
SELECT 'artifact', t.id, t.updated FROM unnest($1::uuid[], $2::timestamptz[]) AS t(id, updated)
ON CONFLICT (entity, id) DO NOTHING`;

const COLLECTION_DELETE = `DELETE FROM artifact_collection WHERE key = ANY($1::text[])`;

// The collection also copies its run's flow, deployment, state type and tags and its
// run's flow's tags (migrations 1700000000080 and 120; NULL while the run or the flow
// is unknown), read here under the run lock (batch.ts).
const COLLECTION_UPSERT = `INSERT INTO artifact_collection AS c (id, created, updated, key, latest_id, type, description, data, metadata_, flow_run_id, task_run_id,
  run_flow_id, run_deployment_id, run_state_type, run_tags, run_flow_tags)
SELECT u.id, u.created, a.updated, u.key, a.id, a.type, a.description, a.data, a.metadata_, a.flow_run_id, a.task_run_id,
  fr.flow_id, fr.deployment_id, fr.state_type, fr.tags, fl.tags
FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::timestamptz[]) WITH ORDINALITY AS u(key, id, latest_id, created, n)
JOIN artifact a ON a.id = u.latest_id
LEFT JOIN flow_run fr ON fr.id = a.flow_run_id
LEFT JOIN flow fl ON fl.id = fr.flow_id
ORDER BY u.n
ON CONFLICT (key) DO UPDATE SET
  created = excluded.created, updated = excluded.updated, latest_id = excluded.latest_id, type = excluded.type,
  description = excluded.description, data = excluded.data, metadata_ = excluded.metadata_,
  flow_run_id = excluded.flow_run_id, task_run_id = excluded.task_run_id,
  run_flow_id = excluded.run_flow_id, run_deployment_id = excluded.run_deployment_id, run_state_type = excluded.run_state_type,
  run_tags = excluded.run_tags, run_flow_tags = excluded.run_flow_tags`;

function column<T, K extends keyof T>(rows: readonly T[], key: K): T[K][] {
  return rows.map((row) => row[key]);
}

/** The batched statements of a plan, in execution order: artifact rows first, then the collections that copy from them. */
export function artifactStatements(w: ArtifactWrites): SqlStatement[] {
  const out: SqlStatement[] = [];
  if (w.inserts.length) {
    const r = w.inserts;
    out.push({
      text: INSERT,
      values: INSERT_COLUMNS.map(([name]) => column(r, name)),
    });
  }
  if (w.patches.length) {
    const r = w.patches;
    out.push({
      text: PATCH,
      values: [
        column(r, 'id'),
        column(r, 'updated'),
        r.map((p) => p.data !== undefined),
        r.map((p) => p.data ?? null),
        r.map((p) => p.description !== undefined),
        r.map((p) => p.description ?? null),
        r.map((p) => p.metadata_ !== undefined),
        r.map((p) => p.metadata_ ?? null),
      ],
    });
  }
  if (w.deletes.length) out.push({ text: DELETE, values: [w.deletes] });
  if (w.tombstones.length) out.push({ text: TOMBSTONE, values: [column(w.tombstones, 'id'), column(w.tombstones, 'updated')] });
  if (w.collectionDeletes.length) out.push({ text: COLLECTION_DELETE, values: [w.collectionDeletes] });
  if (w.collectionUpserts.length) {
    const r = w.collectionUpserts;
    out.push({ text: COLLECTION_UPSERT, values: [column(r, 'key'), column(r, 'id'), column(r, 'latest_id'), column(r, 'created')] });
  }
  return out;
}
