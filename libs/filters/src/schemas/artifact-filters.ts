import { z } from 'zod';
import { boolField, strField } from '../pydantic/lax';
import { filterObject, LIKE_DESCRIPTION, member, operatorFilterObject, strList, uuidList } from './common';

// Prefect's ArtifactFilter (E4/E5) and ArtifactCollectionFilter (E1/E2): the
// same members except `id` versus `latest_id`.

const keyMembers = (exists: string) => ({
  any_: strList('Keys to include (exact, case-sensitive). An empty list matches nothing.'),
  like_: strField(LIKE_DESCRIPTION).nullish(),
  exists_: boolField(exists).nullish(),
});

const typeMembers = {
  any_: strList('Types to include. An empty list matches nothing.'),
  not_any_: strList('Types to exclude; rows without a type are excluded too. An empty list imposes nothing.'),
};

export const ArtifactFilterId = filterObject('ArtifactFilterId', 'Conditions on the artifact id.', {
  any_: uuidList('Artifact ids to include. An empty list matches nothing.'),
});
export const ArtifactFilterKey = filterObject(
  'ArtifactFilterKey',
  'Conditions on the artifact key.',
  keyMembers('true: only artifacts that have a key; false: only keyless artifacts.'),
);
export const ArtifactFilterFlowRunId = filterObject('ArtifactFilterFlowRunId', 'Conditions on the flow run the artifact belongs to.', {
  any_: uuidList('Flow run ids to include. An empty list matches nothing.'),
});
export const ArtifactFilterTaskRunId = filterObject('ArtifactFilterTaskRunId', 'Conditions on the task run the artifact belongs to.', {
  any_: uuidList('Task run ids to include. An empty list matches nothing.'),
});
export const ArtifactFilterType = filterObject('ArtifactFilterType', 'Conditions on the artifact type.', typeMembers);

export const ArtifactFilter = operatorFilterObject('ArtifactFilter', 'Conditions on the artifact versions themselves.', {
  id: member(ArtifactFilterId),
  key: member(ArtifactFilterKey),
  flow_run_id: member(ArtifactFilterFlowRunId),
  task_run_id: member(ArtifactFilterTaskRunId),
  type: member(ArtifactFilterType),
});

export const ArtifactCollectionFilterLatestId = filterObject(
  'ArtifactCollectionFilterLatestId',
  'Conditions on the id of the version a key currently points to.',
  { any_: uuidList('Artifact (version) ids to include. An empty list matches nothing.') },
);
export const ArtifactCollectionFilterKey = filterObject(
  'ArtifactCollectionFilterKey',
  'Conditions on the key.',
  keyMembers('Every latest artifact has a key: true matches all of them, false none.'),
);
export const ArtifactCollectionFilterFlowRunId = filterObject(
  'ArtifactCollectionFilterFlowRunId',
  "Conditions on the latest version's flow run.",
  { any_: uuidList('Flow run ids to include. An empty list matches nothing.') },
);
export const ArtifactCollectionFilterTaskRunId = filterObject(
  'ArtifactCollectionFilterTaskRunId',
  "Conditions on the latest version's task run.",
  { any_: uuidList('Task run ids to include. An empty list matches nothing.') },
);
export const ArtifactCollectionFilterType = filterObject(
  'ArtifactCollectionFilterType',
  "Conditions on the latest version's type.",
  typeMembers,
);

export const ArtifactCollectionFilter = operatorFilterObject(
  'ArtifactCollectionFilter',
  'Conditions on the latest artifact of each key.',
  {
    latest_id: member(ArtifactCollectionFilterLatestId),
    key: member(ArtifactCollectionFilterKey),
    flow_run_id: member(ArtifactCollectionFilterFlowRunId),
    task_run_id: member(ArtifactCollectionFilterTaskRunId),
    type: member(ArtifactCollectionFilterType),
  },
);

export type ArtifactFilter = z.output<typeof ArtifactFilter>;
export type ArtifactCollectionFilter = z.output<typeof ArtifactCollectionFilter>;
