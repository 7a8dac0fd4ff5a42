import { z } from 'zod';
import { enumField, intField, nonNegativeIntField } from '../pydantic/lax';
import { ArtifactCollectionFilter, ArtifactFilter } from './artifact-filters';
import { member } from './common';
import { DeploymentFilter, FlowFilter, FlowRunFilter, TaskRunFilter } from './run-filters';

// The bodies of Prefect's artifact read routes. Top-level members are not
// strict (unknown keys are ignored) and null means "use the default".
// `limit` comes first: Prefect resolves it as a dependency before the rest.

export const ARTIFACT_SORTS = ['CREATED_DESC', 'UPDATED_DESC', 'ID_DESC', 'KEY_DESC', 'KEY_ASC'] as const;
export type ArtifactSort = (typeof ARTIFACT_SORTS)[number];

const limit = intField('Page size. Defaults to, and may not exceed, the server limit (API_DEFAULT_LIMIT, 200 unless configured).').nullish();
const offset = nonNegativeIntField('Rows to skip after ordering. Defaults to 0.').nullish();
const sort = (what: string) =>
  enumField(ARTIFACT_SORTS, `Order of the ${what}; ties are broken by id. Defaults to ID_DESC (arbitrary but stable, not chronological).`).nullish();

const related = {
  flow_runs: member(FlowRunFilter),
  task_runs: member(TaskRunFilter),
  flows: member(FlowFilter),
  deployments: member(DeploymentFilter),
};

export const ReadLatestArtifactsBody = z
  .object({ limit, sort: sort('latest artifacts'), offset, artifacts: member(ArtifactCollectionFilter), ...related })
  .meta({ id: 'ReadLatestArtifactsBody', description: 'Filters, order and page for the latest artifact of each key.' });

export const CountLatestArtifactsBody = z
  .object({ artifacts: member(ArtifactCollectionFilter), ...related })
  .meta({ id: 'CountLatestArtifactsBody', description: 'Filters for counting keys by their latest artifact.' });

export const ReadArtifactsBody = z
  .object({ limit, sort: sort('artifact versions'), offset, artifacts: member(ArtifactFilter), ...related })
  .meta({ id: 'ReadArtifactsBody', description: 'Filters, order and page for artifact versions (keyless ones included).' });

export const CountArtifactsBody = z
  .object({ artifacts: member(ArtifactFilter), ...related })
  .meta({ id: 'CountArtifactsBody', description: 'Filters for counting artifact versions.' });

/** The top-level parameters of each body in Prefect's declaration order (for `missing` errors on a non-object body). */
export const LIST_PARAMETERS = ['limit', 'sort', 'offset', 'artifacts', 'flow_runs', 'task_runs', 'flows', 'deployments'] as const;
export const COUNT_PARAMETERS = ['artifacts', 'flow_runs', 'task_runs', 'flows', 'deployments'] as const;

export type RelatedFilters = z.output<z.ZodObject<typeof related>>;
export type ReadLatestArtifactsBody = z.output<typeof ReadLatestArtifactsBody>;
export type CountLatestArtifactsBody = z.output<typeof CountLatestArtifactsBody>;
export type ReadArtifactsBody = z.output<typeof ReadArtifactsBody>;
export type CountArtifactsBody = z.output<typeof CountArtifactsBody>;
