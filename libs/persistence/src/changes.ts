import { Sql } from './sql';

// The collection change log (migration 1700000000070) as the query app reads it
// and the ingest app prunes it. A position is (xid, id) in that order.

export interface ChangePosition {
  xid: bigint;
  id: bigint;
}

export interface CollectionChange extends ChangePosition {
  /** null: every key may have changed (a rebuild swapped the tables in). */
  key: string | null;
}

export const ORIGIN: ChangePosition = { xid: 0n, id: 0n };

export function comparePositions(a: ChangePosition, b: ChangePosition): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

type Row = { xid: string; id: string; key: string | null };
const toChange = (r: Row): CollectionChange => ({ xid: BigInt(r.xid), id: BigInt(r.id), key: r.key });

// Only changes of transactions older than every running one: all of them have committed
// (or never will), so nothing can later appear before the last position read.
const SETTLED = 'xid < pg_snapshot_xmin(pg_current_snapshot())';

/** The settled changes after `after`, oldest first. */
export async function readChanges(sql: Sql, after: ChangePosition, limit: number): Promise<CollectionChange[]> {
  const { rows } = await sql.query<Row>({
    text: `SELECT xid::text, id::text, key FROM collection_change WHERE (xid, id) > ($1::xid8, $2::bigint) AND ${SETTLED} ORDER BY xid, id LIMIT $3::int`,
    values: [after.xid.toString(), after.id.toString(), limit],
  });
  return rows.map(toChange);
}

/** The last settled position (the pruning horizon when the log is empty). */
export async function settledPosition(sql: Sql): Promise<ChangePosition> {
  const { rows } = await sql.query<Row>({
    text: `SELECT xid::text, id::text, NULL AS key FROM (
             (SELECT xid, id FROM collection_change WHERE ${SETTLED} ORDER BY xid DESC, id DESC LIMIT 1)
             UNION ALL SELECT xid, id FROM collection_change_pruned) p
           ORDER BY xid DESC, id DESC LIMIT 1`,
    values: [],
  });
  return rows[0] ? toChange(rows[0]) : ORIGIN;
}

/** Changes were pruned up to this position: resuming from before it could miss some. */
export async function prunedPosition(sql: Sql): Promise<ChangePosition> {
  const { rows } = await sql.query<Row>({ text: 'SELECT xid::text, id::text, NULL AS key FROM collection_change_pruned', values: [] });
  return rows[0] ? toChange(rows[0]) : ORIGIN;
}

/** Each key changed in (after, upTo], with its last position there, oldest first. */
export async function changesBetween(sql: Sql, after: ChangePosition, upTo: ChangePosition): Promise<CollectionChange[]> {
  const { rows } = await sql.query<Row>({
    text: `SELECT xid::text, id::text, key FROM (
             SELECT DISTINCT ON (key) xid, id, key FROM collection_change
             WHERE (xid, id) > ($1::xid8, $2::bigint) AND (xid, id) <= ($3::xid8, $4::bigint)
             ORDER BY key, xid DESC, id DESC) last
           ORDER BY xid, id`,
    values: [after.xid.toString(), after.id.toString(), upTo.xid.toString(), upTo.id.toString()],
  });
  return rows.map(toChange);
}

/** Deletes changes older than `retentionSeconds` and moves the pruning horizon; returns how many went. */
export async function pruneChanges(sql: Sql, retentionSeconds: number): Promise<number> {
  const { rows } = await sql.query<{ n: string }>({
    text: `WITH gone AS (DELETE FROM collection_change WHERE changed_at < now() - make_interval(secs => $1::float8) RETURNING xid, id),
           last AS (SELECT xid, id FROM gone ORDER BY xid DESC, id DESC LIMIT 1),
           moved AS (UPDATE collection_change_pruned p SET xid = last.xid, id = last.id FROM last WHERE (last.xid, last.id) > (p.xid, p.id) RETURNING 1)
           SELECT count(*)::text AS n FROM gone`,
    values: [retentionSeconds],
  });
  return Number(rows[0]?.n ?? 0);
}

/** Records that every key may have changed (the rebuild's swap) and wakes the listeners at commit. */
export async function noteEverythingChanged(sql: Sql): Promise<void> {
  await sql.query({ text: "INSERT INTO collection_change (key) VALUES (NULL)", values: [] });
  await sql.query({ text: "SELECT pg_notify('collection_change', '')", values: [] });
}

export const CHANGE_CHANNEL = 'collection_change';
