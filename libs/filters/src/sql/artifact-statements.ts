import type { SqlStatement } from '@app/persistence/statement';
import { TALLIED_COLUMNS, TALLIED_RUN_STATE } from '@app/persistence/tally';
import type { ArtifactSort } from '../schemas/bodies';
import { artifactJson, storedCollectionJson } from '@app/persistence/artifact-json';
import { ArtifactQueryFilters, ArtifactTable, artifactOrderBy, artifactWhere, requiredTagShare, runFiltersOnCopies, TagCopy, TagStatistics } from './artifact-query';
import { SqlParams } from './params';

// The statements of the artifact read endpoints (E1, E2, E4, E5), from a validated
// request body; the query app runs them, the bench and the plan tests read them.

export interface ListRequest<T extends ArtifactTable> {
  filters: ArtifactQueryFilters<T>;
  sort: ArtifactSort;
  limit: number;
  offset: number;
  /** PostgreSQL's statistics of the collection's tag copies, to page a rare tag from their index (listStatement). */
  tagStatistics?: TagStatistics;
}

// PostgreSQL's OFFSET is a bigint; Prefect fails beyond it (Q30), we answer [].
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

/** A validated list body with Prefect's defaults: ID_DESC, the configured page size, offset 0. */
export function listRequest<T extends ArtifactTable>(
  body: ArtifactQueryFilters<T> & { sort?: ArtifactSort | null; limit?: number | null; offset?: number | null },
  maxLimit: number,
): ListRequest<T> {
  return {
    filters: body,
    sort: body.sort ?? 'ID_DESC',
    limit: body.limit ?? maxLimit,
    offset: Math.min(body.offset ?? 0, MAX_OFFSET),
  };
}

const JSON_OF: Record<ArtifactTable, (t: string) => string> = {
  artifact: artifactJson,
  artifact_collection: storedCollectionJson,
};

/**
 * A statement whose best plan depends on its values is planned for each execution:
 * a deployment, a flow or a state selects from a handful of rows to half the table
 * (a deployment owning 1/2, 1/5 or 1/20 of the runs), and the generic plan a
 * prepared statement switches to after five executions assumes a few (issue #18,
 * at 1M versions with 10 clients: a count of 1/2 of the runs' collection rows
 * took 334 ms, its CREATED_DESC page at offset 2,000 1.16 s, a versions page of
 * 1/5 2.6 s, against 66 ms, 49 ms and 115 ms planned with the values). So does a
 * run's or a flow's tag on the latest versions: a common one pages best in id order,
 * a rare one from the copies' GIN index (migration 1700000000120). Other
 * filters stay prepared: planning the JSON-building text costs a few milliseconds
 * (before the collection stored its rows' JSON and tags, a flow tag filter's page
 * went from 111 to 169 ms when it was planned each time; versions still build it).
 */
export function planned(table: ArtifactTable, statement: SqlStatement, filters: ArtifactQueryFilters<ArtifactTable>): SqlStatement {
  const { flow_runs: fr, flows, deployments } = filters;
  const byShare = deployments != null || flows?.id != null || fr?.deployment_id != null || fr?.state != null;
  const byTag = table === 'artifact_collection' && (flows?.tags != null || fr?.tags != null);
  return byShare || byTag ? unprepared(statement) : statement;
}

/** The statement planned for each execution's values, never kept as a prepared statement. */
const unprepared = (statement: SqlStatement): SqlStatement => ({ ...statement, prepare: false });

export function listStatement<T extends ArtifactTable>(table: T, request: ListRequest<T>): SqlStatement {
  const p = new SqlParams();
  // In id order, a deployment, flow or state filter reads its page of the latest versions from the run
  // columns' index; a page of every version tests the copy of its run's deployment first (artifact-query.ts).
  const where = artifactWhere(table, request.filters, p, 't', {
    page: table === 'artifact' || request.sort === 'ID_DESC',
    deploymentOrder: table === 'artifact' && request.sort === 'CREATED_DESC' && !request.filters.artifacts && !request.filters.task_runs,
  });
  const limit = p.add(request.limit, 'bigint');
  const json = JSON_OF[table]('t');
  // A page of the latest versions of a tag on few rows reads them all from the copies' GIN index and
  // sorts them: behind OFFSET 0 the planner does not walk the page's order instead, as it does when it
  // prices that walk below the index (issue #18: a flow tag on 2.5% of 100k rows walked 8,000 rows for
  // 200, pgbench 10.4-18.4 ms, against 4.2-5.1 ms). Walking the order reads (limit + offset) / share
  // rows, the index share * rows; the smaller wins.
  const share = table === 'artifact_collection' && request.tagStatistics ? requiredTagShare(request.filters, request.tagStatistics) : undefined;
  const fromIndex = share !== undefined && share * share * request.tagStatistics!.rows < request.limit + request.offset;
  const source = fromIndex ? `(SELECT * FROM ${table} t WHERE ${where} OFFSET 0) t` : `${table} t WHERE ${where}`;
  const { flow_runs, flows, deployments } = request.filters;
  // A first page of every version, or of the latest versions without related filters or with
  // run filters said on the collection's copies alone (a state type, a run's or a flow's tags):
  // its rows in one pass, in order. A plan that sorts builds the JSON after the sort, of the
  // page's rows alone (PostgreSQL postpones an expensive output past a sort under a LIMIT);
  // picking the ids first would look each row up again (issue #18: a versions page of a
  // deployment owning 1/5 of the runs, 2.8 against 2.3 ms).
  if (request.offset === 0 && (table === 'artifact' || !(flow_runs || flows || deployments) || runFiltersOnCopies(table, request.filters))) {
    const text = `SELECT ${json} FROM ${source} ORDER BY ${artifactOrderBy(table, request.sort, 't')} LIMIT ${limit}`;
    return planned(table, p.statement(text), request.filters);
  }
  // With an OFFSET, pick the page's ids first: the skipped rows are then never
  // fetched nor turned into JSON (index-only where the order's index allows).
  // So with a flow-run, flow or deployment filter: the matching runs' rows are
  // found and sorted in the (flow_run_id, id) index, not read from the heap
  // (issue #18: a deployment owning 1/20 of the runs).
  // `= ANY(ARRAY(...))` keeps the page an InitPlan looked up by primary key,
  // where a semi-join could hash a scan of the whole table.
  const offset = request.offset === 0 ? '' : ` OFFSET ${p.add(request.offset, 'bigint')}`;
  const page = `SELECT t.id FROM ${source} ORDER BY ${artifactOrderBy(table, request.sort, 't')} LIMIT ${limit}${offset}`;
  const text = `SELECT ${json} FROM ${table} t WHERE t.id = ANY(ARRAY(${page})) ORDER BY ${artifactOrderBy(table, request.sort, 't')}`;
  return planned(table, p.statement(text), request.filters);
}

/**
 * PostgreSQL's statistics of the collection's tag copies, for ListRequest.tagStatistics:
 * rows of (copy, tag, share of the rows, the collection's row count); a copy with
 * statistics but no common tag has one row with a NULL tag.
 */
export const TAG_STATISTICS: SqlStatement = {
  text: `SELECT s.attname::text, e.tag, (e.share * (1 - s.null_frac))::text, c.reltuples::text
FROM pg_stats s
JOIN pg_class c ON c.oid = to_regclass('artifact_collection')
LEFT JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(tag, share) ON TRUE
WHERE s.schemaname = current_schema() AND s.tablename = 'artifact_collection' AND s.attname IN ('run_tags', 'run_flow_tags') AND NOT s.inherited`,
  values: [],
};

/** TAG_STATISTICS' rows as TagStatistics (most_common_elem_freqs ends with three figures of no tag: skipped). */
export function tagStatisticsOf(rows: readonly (readonly unknown[])[]): TagStatistics {
  const copies = new Map<TagCopy, Map<string, number>>();
  let count = 0;
  for (const [copy, tag, share, reltuples] of rows) {
    count = Math.max(count, Number(reltuples));
    const shares = copies.get(copy as TagCopy) ?? copies.set(copy as TagCopy, new Map()).get(copy as TagCopy)!;
    if (typeof tag === 'string') shares.set(tag, Number(share));
  }
  return { rows: count, copies };
}

export function countStatement<T extends ArtifactTable>(table: T, filters: ArtifactQueryFilters<T>): SqlStatement {
  const p = new SqlParams();
  const where = artifactWhere(table, filters, p, 't');
  if (where === 'TRUE') {
    // Unfiltered: the trigger-kept row count (migration 1700000000010).
    return { text: `SELECT coalesce(sum(n), 0)::text FROM read_model_row_count WHERE table_name = $1::text`, values: [table] };
  }
  const statement = p.statement(`SELECT count(*)::text FROM ${table} t WHERE ${where}`);
  return tallied(table, statement) ?? planned(table, statement, filters);
}

// A WHERE that is one column equal to one of given values (Criteria.any), alone or with the
// EXISTS that says a deployment or flow of that id exists (artifact-query.ts, runCopyConditions).
const EQUALS = String.raw`t\.(\w+) = (?:\$1::(\w+)|ANY\(\$1::(\w+)\[\]\))`;
const ALONE = new RegExp(`^${EQUALS}$`);
const WITH_EXISTS = new RegExp(`^\\(${EQUALS} AND EXISTS \\(SELECT 1 FROM (deployment|flow) x WHERE x\\.id = t\\.\\1\\)\\)$`);
// A version's flow run in one of given state types: the EXISTS of artifact-query.ts with the state filter alone.
const RUN_STATE = /^EXISTS \(SELECT 1 FROM flow_run fr WHERE fr\.id = t\.flow_run_id AND fr\.state_type = (?:\$1::(text)|ANY\(\$1::(text)\[\]\))\)$/;

/**
 * The count read from the tally (migration 1700000000090) when the whole WHERE is one
 * tallied column equal to one of given values, or (1700000000100) a version's flow run
 * in one of given state types: the sum of those values' counts, each value once, only
 * values naming an existing deployment or flow when the WHERE asks that. Constant in
 * the rows counted, where count(*) walks each of them (issue #18).
 */
function tallied(table: ArtifactTable, counted: SqlStatement): SqlStatement | undefined {
  const where = counted.text.slice(counted.text.indexOf(' WHERE ') + ' WHERE '.length);
  const byState = table === TALLIED_RUN_STATE.table ? RUN_STATE.exec(where) : null;
  const match = byState ? [where, TALLIED_RUN_STATE.dimension, ...byState.slice(1)] : (ALONE.exec(where) ?? WITH_EXISTS.exec(where));
  if (!match) return undefined;
  const [, column, oneType, anyType, existing] = match;
  const type = (oneType ?? anyType) as string;
  if (!byState && !(TALLIED_COLUMNS[table] as readonly string[]).includes(column as string)) return undefined;
  if (!['text', 'uuid'].includes(type)) return undefined;
  const value = counted.values[0];
  const values = oneType ? [value] : value;
  const given = `$3::${type}[]`;
  const wanted = existing ? `ARRAY(SELECT x.id::text FROM ${existing} x WHERE x.id = ANY(${given}))` : `${given}::text[]`;
  return {
    text: `SELECT coalesce(sum(n), 0)::text FROM read_model_tally WHERE table_name = $1::text AND dimension = $2::text AND value = ANY(${wanted})`,
    values: [table, column, values],
  };
}

/**
 * A live view's rows (the subscription routes): every collection row matching the
 * filters, `key` then its JSON, in `sort` order, with no limit nor offset.
 */
export function liveStatement(filters: ArtifactQueryFilters<'artifact_collection'>, sort: ArtifactSort): SqlStatement {
  const p = new SqlParams();
  const where = artifactWhere('artifact_collection', filters, p, 't');
  const text = `SELECT t.key, ${storedCollectionJson('t')} FROM artifact_collection t WHERE ${where} ORDER BY ${artifactOrderBy('artifact_collection', sort, 't')}`;
  return p.statement(text);
}

/**
 * The rows of these keys (each once): `unnest` joined on the key, not `key = ANY($1)`, which a
 * plan may test against every row (rows x keys, seconds a step at 1,000 events/s).
 */
const rowsOfKeys = (p: SqlParams, keys: readonly string[]) => `unnest(${p.add(keys, 'text[]')}) AS k(key) JOIN artifact_collection t ON t.key = k.key`;

/*
 * The feed's two reads below are planned for each step, never prepared: a new read model's first
 * steps run while the collection is a few pages, the generic plan made then (a hash join over a
 * sequential scan) is kept until the table is next analysed, and each step then read the whole collection:
 * in `npm run bench:push` the feed's connection used 0.4 of a core at 75k rows and push p99 grew
 * to 1.9 s with the table. Planning a step costs ~0.5 ms (bench/README.md, issue #15).
 */

/**
 * The changed keys' collection rows, read once per feed step: the columns a subscription's
 * filter is decided on in the query app (liveTest, in this order), then the row's JSON.
 */
export function liveRowsStatement(keys: readonly string[]): SqlStatement {
  const p = new SqlParams();
  const columns = 't.key, t.latest_id::text, t.type, t.flow_run_id::text, t.task_run_id::text';
  return unprepared(p.statement(`SELECT ${columns}, ${storedCollectionJson('t')} FROM ${rowsOfKeys(p, keys)}`));
}

/** A subscription filter for the database to decide on changed rows, and (when the app decided the others) the only keys to decide. */
export interface LiveMatch {
  filters: ArtifactQueryFilters<'artifact_collection'>;
  keys?: readonly string[];
}

/**
 * The changed keys' collection rows, each with a '1' or '0' per filter (in order) saying whether
 * it matches: one read for every distinct filter of a query app's open subscriptions.
 */
export function liveMatchesStatement(matches: readonly LiveMatch[], keys: readonly string[]): SqlStatement {
  if (matches.length === 0) throw new Error('liveMatchesStatement needs at least one filter');
  const p = new SqlParams();
  const from = rowsOfKeys(p, keys);
  const hits = matches.map((m) => {
    const condition = artifactWhere('artifact_collection', m.filters, p, 't');
    const within = m.keys === undefined ? condition : `t.key = ANY(${p.add(m.keys, 'text[]')}) AND (${condition})`;
    return `COALESCE((${within}), false)::int`;
  });
  const text = `SELECT t.key, ${storedCollectionJson('t')}, array_to_string(ARRAY[${hits.join(', ')}], '') FROM ${from}`;
  return unprepared(p.statement(text));
}
