import type { ArtifactCollectionFilter, ArtifactFilter } from '../schemas/artifact-filters';
import type { ArtifactSort, RelatedFilters } from '../schemas/bodies';
import { artifactCollectionFilter, artifactFilter } from './artifact-filters';
import { asSqlFilter, Criteria, SqlParams } from './params';
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
  options: { page?: boolean } = {},
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
  const copies = table === 'artifact_collection' ? runCopyConditions(filters, p, t) : undefined;
  if (copies) conditions.push(...copies);
  // A page of the latest versions in id order (not a count, nor a live view, which
  // read every match; nor another order, whose index does not hold the run columns):
  // the run columns' (column, id) index gives the rows in page order, and the EXISTS is
  // checked per row (OFFSET 0 keeps it a subplan: as a join, a generic plan drove it
  // from the runs and intersected each run's rows with the whole index range).
  const implied = !copies && options.page && table === 'artifact_collection' ? impliedRunConditions(filters, p, t) : [];
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
    conditions.push(`EXISTS (SELECT 1 FROM ${from} WHERE ${where.filter((w) => w !== 'TRUE').join(' AND ')}${implied.length ? ' OFFSET 0' : ''})`);
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
 * The run EXISTS said on the collection's copies of its run's flow, deployment and
 * state type (migration 1700000000080), when the filters ask of the run only its
 * deployment or flow (any filter of theirs), or its deployment_id or state type among
 * given ones (the common filters: the UI's deployment and flow pages, a state filter,
 * a flow's tags); undefined otherwise. The ingest keeps the copies equal to the run's
 * columns in the transaction that writes either, NULL while the run is unknown, so a
 * copy equal to a value says the run exists and has that value; the deployment or
 * flow must exist as well, as the EXISTS joins it. The planner then sees from the
 * copies' statistics how many rows a value owns, and counts or pages from one index
 * instead of per run (issue #18: 1/2 of the runs cost 490 ms to count that way at 1M
 * versions).
 */
function runCopyConditions(filters: ArtifactQueryFilters<'artifact_collection'>, p: SqlParams, t: string): string[] | undefined {
  const { flow_runs: fr, flows, deployments } = filters;
  if (!fr && !flows && !deployments) return undefined;
  const c = new Criteria(p);
  for (const [f, column, table, alias, filter] of [
    [deployments, 'run_deployment_id', 'deployment', 'd', () => deploymentFilter(deployments!, p)],
    [flows, 'run_flow_id', 'flow', 'fl', () => flowFilter(flows!, p)],
  ] as const) {
    if (!f) continue;
    if (only(f, ['operator', 'id']) && f.id && only(f.id, ['any_']) && f.id.any_ != null) {
      c.any(`${t}.${column}`, f.id.any_, 'uuid').push(`EXISTS (SELECT 1 FROM ${table} x WHERE x.id = ${t}.${column})`);
    } else {
      // Any other filter of the deployment or flow: the copy is one of the rows it matches (a
      // flow's tags: a hash of the tagged flows, probed in the page's order; issue #18).
      const own = filter();
      c.push(`${t}.${column} IN (SELECT ${alias}.id FROM ${table} ${alias}${own === 'TRUE' ? '' : ` WHERE ${own}`})`);
    }
  }
  if (fr) {
    const { deployment_id: d, state } = fr;
    if (!only(fr, ['operator', 'deployment_id', 'state']) || (!d && !state) || (d && state && fr.operator === 'or_')) return undefined;
    if (d) {
      if (!only(d, ['operator', 'any_']) || d.any_ == null) return undefined;
      c.any(`${t}.run_deployment_id`, d.any_, 'uuid');
    }
    if (state) {
      if (!only(state, ['operator', 'type']) || !state.type || !only(state.type, ['any_']) || state.type.any_ == null) return undefined;
      c.any(`${t}.run_state_type`, state.type.any_, 'text');
    }
  }
  return c.out;
}

/**
 * Conditions on the collection's copies of its run's columns (migration
 * 1700000000080) that the run EXISTS implies: a deployment, flow or state type
 * the filter requires as a whole (no `or_` above it). They let a page be read
 * from one index range in id order whatever share of the runs the value owns;
 * the EXISTS still decides, so a copy cannot add a row.
 */
function impliedRunConditions(filters: ArtifactQueryFilters<'artifact_collection'>, p: SqlParams, t: string): string[] {
  const c = new Criteria(p);
  const { flow_runs: fr, flows, deployments } = filters;
  const and = (f: { operator?: string | null } | null | undefined) => f != null && f.operator !== 'or_';
  if (and(deployments) && deployments!.id?.any_ != null) c.any(`${t}.run_deployment_id`, deployments!.id.any_, 'uuid');
  if (and(flows) && flows!.id?.any_ != null) c.any(`${t}.run_flow_id`, flows!.id.any_, 'uuid');
  if (and(fr)) {
    const d = fr!.deployment_id;
    if (and(d) && d!.any_ != null) c.any(`${t}.run_deployment_id`, d!.any_, 'uuid');
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
