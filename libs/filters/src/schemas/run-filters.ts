import { z } from 'zod';
import { boolField, dateTimeField, intField, strField } from '../pydantic/lax';
import { filterObject, LIKE_DESCRIPTION, member, operatorFilterObject, stateTypeList, strList, uuidList } from './common';

// Prefect's FlowRunFilter, TaskRunFilter, FlowFilter and DeploymentFilter, with
// their members in Prefect's declaration order (it is the order of 422 items).

const before = (what: string) => dateTimeField(`Only ${what} at or before this instant (inclusive).`).nullish();
const after = (what: string) => dateTimeField(`Only ${what} at or after this instant (inclusive).`).nullish();
const isNull = (description: string) => boolField(description).nullish();

// ---------------------------------------------------------------- flow runs

export const FlowRunFilterId = filterObject('FlowRunFilterId', 'Conditions on the flow run id.', {
  any_: uuidList('Flow run ids to include. An empty list matches nothing.'),
  not_any_: uuidList('Flow run ids to exclude. An empty list imposes nothing.'),
});
export const FlowRunFilterName = filterObject('FlowRunFilterName', 'Conditions on the flow run name.', {
  any_: strList('Names to include (exact). An empty list matches nothing.'),
  like_: strField(LIKE_DESCRIPTION).nullish(),
});
export const FlowRunFilterTags = operatorFilterObject('FlowRunFilterTags', 'Conditions on the flow run tags.', {
  all_: strList('The run must carry every one of these tags. An empty list imposes nothing.'),
  any_: strList('The run must carry at least one of these tags. An empty list matches nothing.'),
  is_null_: isNull('true: only runs without tags; false: only runs with at least one tag.'),
});
export const FlowRunFilterDeploymentId = operatorFilterObject('FlowRunFilterDeploymentId', "Conditions on the run's deployment id.", {
  any_: uuidList('Deployment ids to include. An empty list matches nothing.'),
  is_null_: isNull('true: only runs without a deployment; false: only runs with one.'),
});
export const FlowRunFilterWorkQueueName = operatorFilterObject('FlowRunFilterWorkQueueName', "Conditions on the run's work queue name.", {
  any_: strList('Work queue names to include. An empty list matches nothing.'),
  is_null_: isNull('true: only runs without a work queue name; false: only runs with one.'),
});
export const FlowRunFilterStateType = filterObject('FlowRunFilterStateType', 'Conditions on the state type.', {
  any_: stateTypeList('State types to include. An empty list matches nothing.'),
  not_any_: stateTypeList('State types to exclude; runs without a state are excluded too.'),
});
export const FlowRunFilterStateName = filterObject('FlowRunFilterStateName', 'Conditions on the state name.', {
  any_: strList('State names to include. An empty list matches nothing.'),
  not_any_: strList('State names to exclude; runs without a state are excluded too.'),
});
export const FlowRunFilterState = operatorFilterObject(
  'FlowRunFilterState',
  'Conditions on the state. As in Prefect, a `type` or `name` object that yields two conditions (both lists given, `not_any_` non-empty) or none is left out.',
  {
    type: member(FlowRunFilterStateType),
    name: member(FlowRunFilterStateName),
  },
);
export const FlowRunFilterFlowVersion = filterObject('FlowRunFilterFlowVersion', 'Conditions on the flow version the run used.', {
  any_: strList('Flow versions to include. An empty list matches nothing.'),
});
export const FlowRunFilterStartTime = filterObject(
  'FlowRunFilterStartTime',
  'Conditions on the start time. The bounds compare the start time, or the expected start time for a run that has not started; `is_null_` looks at the start time alone.',
  {
    before_: before('runs starting'),
    after_: after('runs starting'),
    is_null_: isNull('true: only runs that have not started; false: only runs that have.'),
  },
);
export const FlowRunFilterEndTime = filterObject('FlowRunFilterEndTime', 'Conditions on the end time.', {
  before_: before('runs ending'),
  after_: after('runs ending'),
  is_null_: isNull('true: only runs without an end time; false: only runs with one.'),
});
export const FlowRunFilterExpectedStartTime = filterObject('FlowRunFilterExpectedStartTime', 'Conditions on the expected start time.', {
  before_: before('runs expected to start'),
  after_: after('runs expected to start'),
});
export const FlowRunFilterNextScheduledStartTime = filterObject(
  'FlowRunFilterNextScheduledStartTime',
  'Conditions on the next scheduled start time.',
  {
    before_: before('runs next scheduled'),
    after_: after('runs next scheduled'),
  },
);
export const FlowRunFilterParentFlowRunId = operatorFilterObject(
  'FlowRunFilterParentFlowRunId',
  'Direct subflows of the given flow runs (through the parent task run).',
  { any_: uuidList('Parent flow run ids. An empty list matches nothing.') },
);
export const FlowRunFilterParentTaskRunId = operatorFilterObject('FlowRunFilterParentTaskRunId', "Conditions on the run's parent task run.", {
  any_: uuidList('Parent task run ids to include. An empty list matches nothing.'),
  is_null_: isNull('true: only runs that are not subflows; false: only subflows.'),
});
export const FlowRunFilterIdempotencyKey = filterObject('FlowRunFilterIdempotencyKey', 'Conditions on the idempotency key.', {
  any_: strList('Idempotency keys to include. An empty list matches nothing.'),
  not_any_: strList('Idempotency keys to exclude; runs without a key are excluded too.'),
});
export const FlowRunFilterCreatedBy = operatorFilterObject('FlowRunFilterCreatedBy', 'Conditions on who or what created the run.', {
  id_: uuidList('Creator ids to include. An empty list matches nothing.'),
  type_: strList('Creator types to include, e.g. DEPLOYMENT or AUTOMATION. An empty list matches nothing.'),
  is_null_: isNull('true: only runs without creator information; false: only runs with it.'),
});

export const FlowRunFilter = operatorFilterObject(
  'FlowRunFilter',
  "Conditions on the artifact's flow run. When present (even empty) the flow run must exist.",
  {
    id: member(FlowRunFilterId),
    name: member(FlowRunFilterName),
    tags: member(FlowRunFilterTags),
    deployment_id: member(FlowRunFilterDeploymentId),
    work_queue_name: member(FlowRunFilterWorkQueueName),
    state: member(FlowRunFilterState),
    flow_version: member(FlowRunFilterFlowVersion),
    start_time: member(FlowRunFilterStartTime),
    end_time: member(FlowRunFilterEndTime),
    expected_start_time: member(FlowRunFilterExpectedStartTime),
    next_scheduled_start_time: member(FlowRunFilterNextScheduledStartTime),
    parent_flow_run_id: member(FlowRunFilterParentFlowRunId),
    parent_task_run_id: member(FlowRunFilterParentTaskRunId),
    idempotency_key: member(FlowRunFilterIdempotencyKey),
    created_by: member(FlowRunFilterCreatedBy),
  },
);

// ---------------------------------------------------------------- task runs

export const TaskRunFilterId = filterObject('TaskRunFilterId', 'Conditions on the task run id.', {
  any_: uuidList('Task run ids to include. An empty list matches nothing.'),
});
export const TaskRunFilterName = filterObject('TaskRunFilterName', 'Conditions on the task run name.', {
  any_: strList('Names to include (exact). An empty list matches nothing.'),
  like_: strField(LIKE_DESCRIPTION).nullish(),
});
export const TaskRunFilterTags = operatorFilterObject('TaskRunFilterTags', 'Conditions on the task run tags.', {
  all_: strList('The run must carry every one of these tags. An empty list imposes nothing.'),
  is_null_: isNull('true: only runs without tags; false: only runs with at least one tag.'),
});
export const TaskRunFilterStateType = filterObject('TaskRunFilterStateType', 'Conditions on the state type.', {
  any_: stateTypeList('State types to include. An empty list matches nothing.'),
});
export const TaskRunFilterStateName = filterObject('TaskRunFilterStateName', 'Conditions on the state name.', {
  any_: strList('State names to include. An empty list matches nothing.'),
});
export const TaskRunFilterState = operatorFilterObject('TaskRunFilterState', 'Conditions on the state; an empty `type` or `name` object is left out.', {
  type: member(TaskRunFilterStateType),
  name: member(TaskRunFilterStateName),
});
export const TaskRunFilterStartTime = filterObject('TaskRunFilterStartTime', 'Conditions on the start time (no fallback to the expected start).', {
  before_: before('task runs starting'),
  after_: after('task runs starting'),
  is_null_: isNull('true: only task runs that have not started; false: only those that have.'),
});
export const TaskRunFilterEndTime = filterObject('TaskRunFilterEndTime', 'Conditions on the end time.', {
  before_: before('task runs ending'),
  after_: after('task runs ending'),
  is_null_: isNull('true: only task runs without an end time; false: only those with one.'),
});
export const TaskRunFilterExpectedStartTime = filterObject('TaskRunFilterExpectedStartTime', 'Conditions on the expected start time.', {
  before_: before('task runs expected to start'),
  after_: after('task runs expected to start'),
});
export const TaskRunFilterSubFlowRuns = filterObject('TaskRunFilterSubFlowRuns', 'Whether the task run is the parent of a subflow run.', {
  exists_: isNull('true: only task runs that started a subflow; false: only those that did not.'),
});
export const TaskRunFilterFlowRunId = operatorFilterObject(
  'TaskRunFilterFlowRunId',
  "Conditions on the task run's flow run. `is_null_` defaults to false, so `{}` means \"belongs to a flow run\"; send `is_null_: null` to lift that.",
  {
    any_: uuidList('Flow run ids to include (used when is_null_ is not true). An empty list matches nothing.'),
    is_null_: boolField('true: only task runs without a flow run (any_ is then ignored); false (the default): only task runs with one.')
      .nullable()
      .default(false),
  },
);

export const TaskRunFilter = operatorFilterObject(
  'TaskRunFilter',
  "Conditions on the artifact's task run. When present (even empty) the task run must exist.",
  {
    id: member(TaskRunFilterId),
    name: member(TaskRunFilterName),
    tags: member(TaskRunFilterTags),
    state: member(TaskRunFilterState),
    start_time: member(TaskRunFilterStartTime),
    end_time: member(TaskRunFilterEndTime),
    expected_start_time: member(TaskRunFilterExpectedStartTime),
    subflow_runs: member(TaskRunFilterSubFlowRuns),
    flow_run_id: member(TaskRunFilterFlowRunId),
  },
);

// ---------------------------------------------------------------- flows

export const FlowFilterId = filterObject('FlowFilterId', 'Conditions on the flow id.', {
  any_: uuidList('Flow ids to include. An empty list matches nothing.'),
  not_any_: uuidList('Flow ids to exclude. An empty list imposes nothing.'),
});
export const FlowFilterDeployment = operatorFilterObject('FlowFilterDeployment', 'Whether the flow has any deployment at all.', {
  is_null_: isNull('true: only flows without any deployment; false: only flows with at least one.'),
});
export const FlowFilterName = filterObject('FlowFilterName', 'Conditions on the flow name.', {
  any_: strList('Flow names to include (exact). An empty list matches nothing.'),
  like_: strField(LIKE_DESCRIPTION).nullish(),
});
export const FlowFilterTags = operatorFilterObject('FlowFilterTags', 'Conditions on the flow tags.', {
  all_: strList('The flow must carry every one of these tags. An empty list imposes nothing.'),
  is_null_: isNull('true: only flows without tags; false: only flows with at least one tag.'),
});

export const FlowFilter = operatorFilterObject(
  'FlowFilter',
  "Conditions on the flow of the artifact's flow run. When present (even empty) the run and its flow must exist.",
  {
    id: member(FlowFilterId),
    deployment: member(FlowFilterDeployment),
    name: member(FlowFilterName),
    tags: member(FlowFilterTags),
  },
);

// ---------------------------------------------------------------- deployments

export const DeploymentFilterId = filterObject('DeploymentFilterId', 'Conditions on the deployment id.', {
  any_: uuidList('Deployment ids to include. An empty list matches nothing.'),
  not_any_: uuidList('Deployment ids to exclude. An empty list imposes nothing.'),
});
export const DeploymentFilterName = filterObject('DeploymentFilterName', 'Conditions on the deployment name.', {
  any_: strList('Deployment names to include (exact). An empty list matches nothing.'),
  like_: strField(LIKE_DESCRIPTION).nullish(),
});
export const DeploymentOrFlowNameFilter = filterObject(
  'DeploymentOrFlowNameFilter',
  "Matches the deployment's name or its flow's name.",
  { like_: strField(LIKE_DESCRIPTION).nullish() },
);
export const DeploymentFilterPaused = filterObject('DeploymentFilterPaused', 'Whether the deployment is paused.', {
  eq_: boolField('true: only paused deployments; false: only active ones.').nullish(),
});
export const DeploymentFilterTags = operatorFilterObject('DeploymentFilterTags', 'Conditions on the deployment tags.', {
  all_: strList('The deployment must carry every one of these tags. An empty list imposes nothing.'),
  any_: strList('The deployment must carry at least one of these tags. An empty list matches nothing.'),
  is_null_: isNull('true: only deployments without tags; false: only those with at least one tag.'),
});
export const DeploymentFilterWorkQueueName = filterObject('DeploymentFilterWorkQueueName', "Conditions on the deployment's work queue.", {
  any_: strList('Work queue names to include. An empty list matches nothing.'),
});
export const DeploymentFilterConcurrencyLimit = filterObject(
  'DeploymentFilterConcurrencyLimit',
  'Deprecated in Prefect: checked for shape, then ignored.',
  {
    ge_: intField('Ignored.').nullish(),
    le_: intField('Ignored.').nullish(),
    is_null_: isNull('Ignored.'),
  },
);

export const DeploymentFilter = operatorFilterObject(
  'DeploymentFilter',
  "Conditions on the deployment of the artifact's flow run. When present (even empty) the run and its deployment must exist.",
  {
    id: member(DeploymentFilterId),
    name: member(DeploymentFilterName),
    flow_or_deployment_name: member(DeploymentOrFlowNameFilter),
    paused: member(DeploymentFilterPaused),
    tags: member(DeploymentFilterTags),
    work_queue_name: member(DeploymentFilterWorkQueueName),
    concurrency_limit: member(DeploymentFilterConcurrencyLimit),
  },
);

export type FlowRunFilter = z.output<typeof FlowRunFilter>;
export type TaskRunFilter = z.output<typeof TaskRunFilter>;
export type FlowFilter = z.output<typeof FlowFilter>;
export type DeploymentFilter = z.output<typeof DeploymentFilter>;
