import type { DeploymentFilter, FlowFilter, FlowRunFilter, TaskRunFilter } from '../schemas/run-filters';
import { asSqlFilter, Criteria, SqlParams, storable } from './params';

// Conditions on the aliases of the EXISTS built in artifact-query.ts:
// flow_run `fr`, flow `fl`, deployment `d`, task_run `tr`.

type Of<T> = NonNullable<T>;

/**
 * FlowRunFilterState / TaskRunFilterState: a `type` or `name` object is kept
 * only when it yields exactly one condition (Prefect keeps a sub-filter only
 * if it is a single BinaryExpression, Q12): two conditions or none are dropped.
 */
function stateFilter(
  f: { operator: 'and_' | 'or_'; type?: { any_?: readonly string[] | null; not_any_?: readonly string[] | null } | null; name?: { any_?: readonly string[] | null; not_any_?: readonly string[] | null } | null },
  p: SqlParams,
  table: string,
): string {
  const kept: string[] = [];
  for (const [sub, column] of [
    [f.type, `${table}.state_type`],
    [f.name, `${table}.state_name`],
  ] as const) {
    if (!sub) continue;
    const count = (sub.any_ != null ? 1 : 0) + (sub.not_any_ != null && sub.not_any_.length > 0 ? 1 : 0);
    if (count === 1) kept.push(...new Criteria(p).any(column, sub.any_, 'text').notAny(column, sub.not_any_, 'text').out);
  }
  return asSqlFilter(kept, f.operator);
}

function flowRunFilterCreatedBy(f: Of<FlowRunFilter['created_by']>, p: SqlParams): string {
  const c = new Criteria(p).any(`(fr.created_by->>'id')`, f.id_, 'text').any(`(fr.created_by->>'type')`, f.type_, 'text');
  if (f.is_null_ != null) {
    // A JSON null is as absent as an SQL NULL.
    c.push(f.is_null_ ? `coalesce(jsonb_typeof(fr.created_by), 'null') = 'null'` : `jsonb_typeof(fr.created_by) <> 'null'`);
  }
  return asSqlFilter(c.out, f.operator);
}

/** FlowRunFilterParentFlowRunId: direct subflows, through the parent task run's flow run. */
function flowRunFilterParentFlowRunId(f: Of<FlowRunFilter['parent_flow_run_id']>, p: SqlParams): string {
  const c = new Criteria(p);
  if (f.any_ != null) {
    c.push(
      f.any_.length === 0
        ? 'FALSE'
        : `EXISTS (SELECT 1 FROM task_run ptr WHERE ptr.id = fr.parent_task_run_id AND ptr.flow_run_id = ANY(${c.param(f.any_, 'uuid[]')}))`,
    );
  }
  return asSqlFilter(c.out, f.operator);
}

/** FlowRunFilter on flow_run `fr`. */
export function flowRunFilter(f: FlowRunFilter, p: SqlParams): string {
  const c = new Criteria(p);
  const sub = (conditions: string[], operator?: 'and_' | 'or_') => c.push(asSqlFilter(conditions, operator));
  if (f.id) sub(new Criteria(p).any('fr.id', f.id.any_, 'uuid').notAny('fr.id', f.id.not_any_, 'uuid').out);
  if (f.name) sub(new Criteria(p).any('fr.name', f.name.any_, 'text').like('fr.name', f.name.like_).out);
  if (f.tags) sub(new Criteria(p).tags('fr.tags', f.tags).out, f.tags.operator);
  if (f.deployment_id) {
    const d = f.deployment_id;
    sub(new Criteria(p).any('fr.deployment_id', d.any_, 'uuid').isNull('fr.deployment_id', d.is_null_).out, d.operator);
  }
  if (f.work_queue_name) {
    const w = f.work_queue_name;
    sub(new Criteria(p).any('fr.work_queue_name', w.any_, 'text').isNull('fr.work_queue_name', w.is_null_).out, w.operator);
  }
  if (f.state) c.push(stateFilter(f.state, p, 'fr'));
  if (f.flow_version) sub(new Criteria(p).any('fr.flow_version', f.flow_version.any_, 'text').out);
  if (f.start_time) {
    // Q23: the bounds fall back to the expected start; is_null_ does not.
    const s = f.start_time;
    const started = 'coalesce(fr.start_time, fr.expected_start_time)';
    sub(new Criteria(p).before(started, s.before_).after(started, s.after_).isNull('fr.start_time', s.is_null_).out);
  }
  if (f.end_time) {
    const e = f.end_time;
    sub(new Criteria(p).before('fr.end_time', e.before_).after('fr.end_time', e.after_).isNull('fr.end_time', e.is_null_).out);
  }
  if (f.expected_start_time) {
    const e = f.expected_start_time;
    sub(new Criteria(p).before('fr.expected_start_time', e.before_).after('fr.expected_start_time', e.after_).out);
  }
  if (f.next_scheduled_start_time) {
    const n = f.next_scheduled_start_time;
    sub(new Criteria(p).before('fr.next_scheduled_start_time', n.before_).after('fr.next_scheduled_start_time', n.after_).out);
  }
  if (f.parent_flow_run_id) c.push(flowRunFilterParentFlowRunId(f.parent_flow_run_id, p));
  if (f.parent_task_run_id) {
    const t = f.parent_task_run_id;
    sub(new Criteria(p).any('fr.parent_task_run_id', t.any_, 'uuid').isNull('fr.parent_task_run_id', t.is_null_).out, t.operator);
  }
  if (f.idempotency_key) {
    const k = f.idempotency_key;
    sub(new Criteria(p).any('fr.idempotency_key', k.any_, 'text').notAny('fr.idempotency_key', k.not_any_, 'text').out);
  }
  if (f.created_by) c.push(flowRunFilterCreatedBy(f.created_by, p));
  return asSqlFilter(c.out, f.operator);
}

/**
 * TaskRunFilterFlowRunId: `is_null_` defaults to false (Q24), so the decision
 * table of §7.6 applies: true wins over any_, false without any_ means "has a
 * flow run", an explicit null leaves only any_.
 */
function taskRunFilterFlowRunId(f: Of<TaskRunFilter['flow_run_id']>, p: SqlParams): string {
  const c = new Criteria(p);
  if (f.is_null_ === true) c.push('tr.flow_run_id IS NULL');
  else if (f.is_null_ === false && f.any_ == null) c.push('tr.flow_run_id IS NOT NULL');
  else c.any('tr.flow_run_id', f.any_, 'uuid');
  return asSqlFilter(c.out, f.operator);
}

/** TaskRunFilter on task_run `tr`. */
export function taskRunFilter(f: TaskRunFilter, p: SqlParams): string {
  const c = new Criteria(p);
  const sub = (conditions: string[], operator?: 'and_' | 'or_') => c.push(asSqlFilter(conditions, operator));
  if (f.id) sub(new Criteria(p).any('tr.id', f.id.any_, 'uuid').out);
  if (f.name) sub(new Criteria(p).any('tr.name', f.name.any_, 'text').like('tr.name', f.name.like_).out);
  if (f.tags) sub(new Criteria(p).tags('tr.tags', f.tags).out, f.tags.operator);
  if (f.state) c.push(stateFilter(f.state, p, 'tr'));
  if (f.start_time) {
    const s = f.start_time;
    sub(new Criteria(p).before('tr.start_time', s.before_).after('tr.start_time', s.after_).isNull('tr.start_time', s.is_null_).out);
  }
  if (f.end_time) {
    const e = f.end_time;
    sub(new Criteria(p).before('tr.end_time', e.before_).after('tr.end_time', e.after_).isNull('tr.end_time', e.is_null_).out);
  }
  if (f.expected_start_time) {
    const e = f.expected_start_time;
    sub(new Criteria(p).before('tr.expected_start_time', e.before_).after('tr.expected_start_time', e.after_).out);
  }
  if (f.subflow_runs) {
    // TaskRunFilterSubFlowRuns: TaskRun.subflow_run.has(), the flow run whose parent_task_run_id is this task run.
    const exists = f.subflow_runs.exists_;
    const subflow = 'EXISTS (SELECT 1 FROM flow_run sfr WHERE sfr.parent_task_run_id = tr.id)';
    sub(exists == null ? [] : [exists ? subflow : `NOT ${subflow}`]);
  }
  if (f.flow_run_id) c.push(taskRunFilterFlowRunId(f.flow_run_id, p));
  return asSqlFilter(c.out, f.operator);
}

/** FlowFilter on flow `fl`. */
export function flowFilter(f: FlowFilter, p: SqlParams): string {
  const c = new Criteria(p);
  const sub = (conditions: string[], operator?: 'and_' | 'or_') => c.push(asSqlFilter(conditions, operator));
  if (f.id) sub(new Criteria(p).any('fl.id', f.id.any_, 'uuid').notAny('fl.id', f.id.not_any_, 'uuid').out);
  if (f.deployment) {
    // FlowFilterDeployment: whether the flow has any deployment at all (not the run's).
    const isNull = f.deployment.is_null_;
    const has = 'EXISTS (SELECT 1 FROM deployment fd WHERE fd.flow_id = fl.id)';
    sub(isNull == null ? [] : [isNull ? `NOT ${has}` : has], f.deployment.operator);
  }
  if (f.name) sub(new Criteria(p).any('fl.name', f.name.any_, 'text').like('fl.name', f.name.like_).out);
  if (f.tags) sub(new Criteria(p).tags('fl.tags', f.tags).out, f.tags.operator);
  return asSqlFilter(c.out, f.operator);
}

/** DeploymentFilter on deployment `d`; `concurrency_limit` is validated but ignored (Q26). */
export function deploymentFilter(f: DeploymentFilter, p: SqlParams): string {
  const c = new Criteria(p);
  const sub = (conditions: string[], operator?: 'and_' | 'or_') => c.push(asSqlFilter(conditions, operator));
  if (f.id) sub(new Criteria(p).any('d.id', f.id.any_, 'uuid').notAny('d.id', f.id.not_any_, 'uuid').out);
  if (f.name) sub(new Criteria(p).any('d.name', f.name.any_, 'text').like('d.name', f.name.like_).out);
  if (f.flow_or_deployment_name) {
    // DeploymentOrFlowNameFilter: one pattern, matched against the deployment's name or its flow's.
    const like = f.flow_or_deployment_name.like_;
    if (like == null || like === '') sub([]);
    else if (!storable(like)) sub(['FALSE']);
    else {
      const pattern = c.param(`%${like}%`, 'text');
      sub([`(d.name ILIKE ${pattern} OR EXISTS (SELECT 1 FROM flow dfl WHERE dfl.id = d.flow_id AND dfl.name ILIKE ${pattern}))`]);
    }
  }
  if (f.paused) sub(new Criteria(p).eq('d.paused', f.paused.eq_).out);
  if (f.tags) sub(new Criteria(p).tags('d.tags', f.tags).out, f.tags.operator);
  if (f.work_queue_name) sub(new Criteria(p).any('d.work_queue_name', f.work_queue_name.any_, 'text').out);
  return asSqlFilter(c.out, f.operator);
}
