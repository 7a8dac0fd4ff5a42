import type { ArtifactCollectionFilter, ArtifactFilter } from '../schemas/artifact-filters';
import type { ArtifactSort, RelatedFilters } from '../schemas/bodies';
import { artifactCollectionFilter, artifactFilter } from './artifact-filters';
import { asSqlFilter, Criteria, List, SqlParams, storable } from './params';
import { deploymentFilter, flowFilter, flowRunFilter, taskRunFilter } from './run-filters';

/** `artifact` (E4/E5, every version) or `artifact_collection` (E1/E2, the latest version of each key). */
export type ArtifactTable = 'artifact' | 'artifact_collection';

export type ArtifactQueryFilters<T extends ArtifactTable> = Partial<RelatedFilters> & {
  artifacts?: (T extends 'artifact' ? ArtifactFilter : ArtifactCollectionFilter) | null;
};

/**
 * The WHERE condition for rows `t` of `table` (§8): the row's own filter, one
 * EXISTS over its flow run joined to the flow and deployment (so all three
 * filters hold for the same run), and one EXISTS over its task run. A related
 * filter that is present, even `{}`, requires the related row to exist.
 */
export function artifactWhere<T extends ArtifactTable>(
  table: T,
  filters: ArtifactQueryFilters<T>,
  p: SqlParams,
  t: string,
  options: {
    page?: boolean;
    /**
     * A page of versions in CREATED_DESC order filtered on their run's deployment alone: one
     * deployment said on the versions' copy is compared with a sub-select, whose value the
     * planner does not see, so it reads the deployment's range of migration 160's index, in
     * page order, whatever its share. Seeing the value, it priced that range's scattered heap
     * rows above a walk of the created index for a deployment owning 1/5 of the runs, and
     * walked 1,000 versions for 200 (issue #18). Not beside a filter of the version's own
     * columns or its task run: believing the range small, the planner could walk it all
     * rather than read that filter's index.
     */
    deploymentOrder?: boolean;
  } = {},
): string {
  const conditions: string[] = [];
  if (filters.artifacts) {
    conditions.push(
      table === 'artifact'
        ? artifactFilter(filters.artifacts, p, t)
        : artifactCollectionFilter(filters.artifacts, p, t),
    );
  }
  const { flow_runs, flows, deployments, task_runs } = filters;
  const copies = runCopyConditions(table, filters, p, t, options.deploymentOrder);
  if (copies) conditions.push(...copies);
  // A page (not a count, nor a live view, which read every match). Of the latest
  // versions in id order (another order's index does not hold the run columns): the
  // run columns' (column, id) index gives the rows in page order, and the EXISTS is
  // checked per row (OFFSET 0 keeps it a subplan: as a join, a generic plan drove it
  // from the runs and intersected each run's rows with the whole index range). Of
  // every version in any order, where the run filters are not said on the copy alone
  // (a flow filter beside the deployment's): the copy of the run's deployment is tested
  // first, so only the matching versions look up their run.
  const implied = !copies && options.page ? impliedRunConditions(table, filters, p, t) : [];
  conditions.push(...implied);
  if (!copies && (flow_runs || flows || deployments)) {
    let from = 'flow_run fr';
    const where = [`fr.id = ${t}.flow_run_id`];
    if (flow_runs) where.push(flowRunFilter(flow_runs, p));
    if (flows) {
      from += ' JOIN flow fl ON fl.id = fr.flow_id';
      where.push(flowFilter(flows, p));
    }
    if (deployments) {
      from += ' JOIN deployment d ON d.id = fr.deployment_id';
      where.push(deploymentFilter(deployments, p));
    }
    const subplan = implied.length && table === 'artifact_collection';
    conditions.push(`EXISTS (SELECT 1 FROM ${from} WHERE ${where.filter((w) => w !== 'TRUE').join(' AND ')}${subplan ? ' OFFSET 0' : ''})`);
  }
  if (task_runs) {
    const own = taskRunFilter(task_runs, p);
    conditions.push(`EXISTS (SELECT 1 FROM task_run tr WHERE tr.id = ${t}.task_run_id${own === 'TRUE' ? '' : ` AND ${own}`})`);
  }
  return asSqlFilter(conditions);
}

/** Whether `f` sets nothing but `keys` (a member set to null is not set). */
const only = (f: object, keys: readonly string[]) => Object.entries(f).every(([k, v]) => v == null || keys.includes(k));

/**
 * The run EXISTS said on the row's copies of its run's columns, when the filters ask of
 * them only what the copies hold; undefined otherwise. The collection copies its run's
 * flow, deployment, state type and tags and its flow's tags (migrations 1700000000080
 * and 120): said on them when the filters ask of the run only its deployment_id among
 * given ones, its state type among given ones or its tags, of its deployment or flow only
 * their id among given ones (or anything, from their own table), of its flow only its
 * tags (the common filters: the UI's deployment and flow pages, a state filter, a run's
 * or a flow's tags). A version copies its run's deployment alone (130): said on it when
 * the filters ask of the run only its deployment_id among given ones, and of its
 * deployment anything, with no flow filter (the UI's deployment page of versions).
 * The ingest keeps the copies equal to the run's and the flow's
 * columns in the transaction that writes either, NULL while the run (or the flow) is
 * unknown, so a copy equal to a value says the run exists and has that value; a run's
 * tags are never NULL, so `run_tags IS NOT NULL` says the run exists, `run_flow_tags
 * IS NOT NULL` that its flow does (where a tag filter may hold for no tag at all, as
 * `all_: []`). The deployment or flow of a given id must exist as well, as the EXISTS
 * joins it. The planner then sees from the copies' statistics how many rows a value
 * owns, and counts or pages from one index instead of per run (issue #18: 1/2 of the
 * runs cost 490 ms to count that way at 1M versions; a page of a tag half the runs
 * carry read 400 runs; a versions page of a deployment owning 1/5 of the runs walked
 * 1,000 versions in created order for 200, and reads 200 from migration 160's index).
 */
function runCopyConditions(table: ArtifactTable, filters: ArtifactQueryFilters<ArtifactTable>, p: SqlParams, t: string, deploymentOrder = false): string[] | undefined {
  const { flow_runs: fr, flows, deployments } = filters;
  if (!fr && !flows && !deployments) return undefined;
  // A version copies its run's deployment alone.
  if (table === 'artifact' && (flows || (fr && !only(fr, ['operator', 'deployment_id'])))) return undefined;
  if (fr && !runCopiesHold(fr)) return undefined;
  const c = new Criteria(p);
  // A copy's id among given ones; one, in a sub-select, with `deploymentOrder` (artifactWhere: a versions page, whose only copy is the deployment's).
  const copyAny = (criteria: Criteria, column: string, list: List) => {
    const one = list?.filter(storable);
    if (!deploymentOrder || one?.length !== 1) return criteria.any(`${t}.${column}`, list, 'uuid');
    return criteria.push(`${t}.${column} = (SELECT ${p.add(one[0], 'uuid')})`);
  };
  // Each with the copy of its id and, for the flow, the copy of its tags.
  for (const [f, column, tagsColumn, related, alias, filter] of [
    [deployments, 'run_deployment_id', undefined, 'deployment', 'd', () => deploymentFilter(deployments!, p)],
    [flows, 'run_flow_id', 'run_flow_tags', 'flow', 'fl', () => flowFilter(flows!, p)],
  ] as const) {
    if (!f) continue;
    if (only(f, ['operator', 'id']) && f.id && only(f.id, ['any_']) && f.id.any_ != null) {
      copyAny(c, column, f.id.any_).push(`EXISTS (SELECT 1 FROM ${related} x WHERE x.id = ${t}.${column})`);
    } else if (tagsColumn && f.tags && only(f, ['operator', 'tags'])) {
      c.push(`${t}.${tagsColumn} IS NOT NULL`).push(asSqlFilter(new Criteria(p).tags(`${t}.${tagsColumn}`, f.tags).out, f.tags.operator));
    } else {
      // Any other filter of the deployment or flow: the copy is one of the rows it matches.
      const own = filter();
      c.push(`${t}.${column} IN (SELECT ${alias}.id FROM ${related} ${alias}${own === 'TRUE' ? '' : ` WHERE ${own}`})`);
    }
  }
  if (fr) {
    // As flowRunFilter says them, on the copies: each member's conditions joined by its own operator, the members by the run filter's.
    const members: string[] = [];
    if (fr.deployment_id) members.push(asSqlFilter(copyAny(new Criteria(p), 'run_deployment_id', fr.deployment_id.any_).out, fr.deployment_id.operator));
    if (fr.state) members.push(asSqlFilter(new Criteria(p).any(`${t}.run_state_type`, fr.state.type!.any_, 'text').out));
    if (fr.tags) {
      c.push(`${t}.run_tags IS NOT NULL`);
      members.push(asSqlFilter(new Criteria(p).tags(`${t}.run_tags`, fr.tags).out, fr.tags.operator));
    }
    const all = asSqlFilter(members, fr.operator);
    for (const condition of fr.operator === 'or_' ? [all] : members) c.push(condition);
  }
  return c.out.filter((condition) => condition !== 'TRUE');
}

/**
 * Whether the flow-run, flow and deployment filters of a query of the latest versions
 * are said on the row's copies alone, without a subquery (runCopyConditions): a page
 * of it is then read in one pass, in its order, like an unfiltered one.
 */
export function runFiltersOnCopies(table: ArtifactTable, filters: ArtifactQueryFilters<ArtifactTable>): boolean {
  if (table !== 'artifact_collection') return false;
  const copies = runCopyConditions(table, filters, new SqlParams(), 't');
  return copies !== undefined && copies.every((condition) => !condition.includes('SELECT'));
}

/**
 * Whether a flow-run filter asks only what the collection's copies hold: its tags,
 * its deployment_id among given ones, its state type among given ones (stateFilter's
 * `type` with `any_` alone, and no `name`), at least one of them.
 */
function runCopiesHold(fr: NonNullable<ArtifactQueryFilters<'artifact_collection'>['flow_runs']>): boolean {
  const { deployment_id: d, state, tags } = fr;
  if (!only(fr, ['operator', 'deployment_id', 'state', 'tags']) || (!d && !state && !tags)) return false;
  if (d && (!only(d, ['operator', 'any_']) || d.any_ == null)) return false;
  if (state && (!only(state, ['operator', 'type']) || !state.type || !only(state.type, ['any_']) || state.type.any_ == null)) return false;
  return true;
}

/** The collection's copies of its run's tags and of its run's flow's tags (migration 1700000000120). */
export type TagCopy = 'run_tags' | 'run_flow_tags';

/**
 * PostgreSQL's statistics of the collection's tag copies (TAG_STATISTICS, kept by
 * ANALYZE): how many rows the collection holds, and for each copy that has statistics
 * the share of the rows each of its most common tags is on.
 */
export interface TagStatistics {
  rows: number;
  copies: ReadonlyMap<TagCopy, ReadonlyMap<string, number>>;
}

/**
 * The largest share of the collection rows a filter of the latest versions can keep,
 * as far as its tags tell: the smallest share, in `statistics`, of the tags it requires
 * (an `all_` no `or_` above it loosens) of the copy of the run's flow's tags or of the
 * run's tags, where the filter is said on the copies (runCopyConditions). A tag the
 * copy's statistics do not list is on fewer rows than any they list. Undefined when
 * the filter requires no such tag or its copy has no statistics.
 */
export function requiredTagShare(filters: ArtifactQueryFilters<'artifact_collection'>, statistics: TagStatistics): number | undefined {
  if (!runCopyConditions('artifact_collection', filters, new SqlParams(), 't')) return undefined;
  let smallest: number | undefined;
  for (const [copy, f] of [
    ['run_flow_tags', filters.flows],
    ['run_tags', filters.flow_runs],
  ] as const) {
    const tags = f?.tags;
    const shares = statistics.copies.get(copy);
    // A flow filter is said on the copy only as tags alone (runCopyConditions).
    if (!f || !tags || !shares || !requires(f, 'tags') || !requires(tags, 'all_') || !tags.all_?.length) continue;
    if (copy === 'run_flow_tags' && !only(f, ['operator', 'tags'])) continue;
    const floor = Math.min(...shares.values());
    for (const tag of tags.all_) smallest = Math.min(smallest ?? 1, shares.get(tag) ?? (Number.isFinite(floor) ? floor : 0));
  }
  return smallest;
}

/** Whether filter object `f` requires its member `key` to hold: joined by AND, or its only member. */
const requires = (f: { operator?: string | null }, key: string) => f.operator !== 'or_' || only(f, ['operator', key]);

/**
 * Conditions on the row's copies of its run's columns that the run EXISTS implies: a
 * deployment, flow or state type the filter requires as a whole (no `or_` above it);
 * on a version only the deployment (migration 1700000000130), on the collection all
 * three (080). On the collection they let a page be read from one index range in id
 * order whatever share of the runs the value owns; on the versions they spare the
 * run lookups of the rows they exclude. The EXISTS still decides, so a copy cannot
 * add a row.
 */
function impliedRunConditions(table: ArtifactTable, filters: ArtifactQueryFilters<ArtifactTable>, p: SqlParams, t: string): string[] {
  const c = new Criteria(p);
  const { flow_runs: fr, flows, deployments } = filters;
  const and = (f: { operator?: string | null } | null | undefined) => f != null && f.operator !== 'or_';
  const collection = table === 'artifact_collection';
  if (and(deployments) && deployments!.id?.any_ != null) c.any(`${t}.run_deployment_id`, deployments!.id.any_, 'uuid');
  if (collection && and(flows) && flows!.id?.any_ != null) c.any(`${t}.run_flow_id`, flows!.id.any_, 'uuid');
  if (and(fr)) {
    const d = fr!.deployment_id;
    if (and(d) && d!.any_ != null) c.any(`${t}.run_deployment_id`, d!.any_, 'uuid');
    if (!collection) return c.out;
    const state = fr!.state;
    // stateFilter keeps a `type` or `name` object only when it yields exactly one condition.
    const single = (o: { any_?: readonly string[] | null; not_any_?: readonly string[] | null } | null | undefined) =>
      o != null && (o.any_ != null ? 1 : 0) + (o.not_any_ != null && o.not_any_.length > 0 ? 1 : 0) === 1;
    if (state && single(state.type) && state.type!.any_ != null && (state.operator !== 'or_' || !single(state.name))) {
      c.any(`${t}.run_state_type`, state.type!.any_, 'text');
    }
  }
  return c.out;
}

/**
 * ORDER BY for a sort value, with `id` as the hidden final tie-breaker (§6).
 * NULL keys (keyless versions) sort as Prefect on PostgreSQL sorts them (the
 * production back end; PostgreSQL's default): last ascending, first descending.
 * Collection keys are unique and NOT NULL, so KEY_* needs no tie-breaker there.
 */
export function artifactOrderBy(table: ArtifactTable, sort: ArtifactSort, t: string): string {
  switch (sort) {
    case 'CREATED_DESC':
      return `${t}.created DESC, ${t}.id DESC`;
    case 'UPDATED_DESC':
      return `${t}.updated DESC, ${t}.id DESC`;
    case 'ID_DESC':
      return `${t}.id DESC`;
    case 'KEY_DESC':
      return table === 'artifact' ? `${t}.key DESC, ${t}.id DESC` : `${t}.key DESC`;
    case 'KEY_ASC':
      return table === 'artifact' ? `${t}.key ASC, ${t}.id ASC` : `${t}.key ASC`;
  }
}
