import type { ArtifactCollectionFilter, ArtifactFilter } from '../schemas/artifact-filters';
import { asSqlFilter, Criteria, SqlParams } from './params';

// One function per Prefect class (its `_get_filter_list`); `t` is the alias of
// the artifact or artifact_collection row being filtered.

type Key = NonNullable<ArtifactFilter['key']>;
type Type = NonNullable<ArtifactFilter['type']>;

function artifactFilterKey(f: Key, p: SqlParams, t: string): string[] {
  const c = new Criteria(p).any(`${t}.key`, f.any_, 'text').like(`${t}.key`, f.like_);
  if (f.exists_ != null) c.push(f.exists_ ? `${t}.key IS NOT NULL` : `${t}.key IS NULL`);
  return c.out;
}

function artifactFilterType(f: Type, p: SqlParams, t: string): string[] {
  return new Criteria(p).any(`${t}.type`, f.any_, 'text').notAny(`${t}.type`, f.not_any_, 'text').out;
}

/** ArtifactFilter, on `artifact` rows. */
export function artifactFilter(f: ArtifactFilter, p: SqlParams, t: string): string {
  const c = new Criteria(p);
  if (f.id) c.push(asSqlFilter(new Criteria(p).any(`${t}.id`, f.id.any_, 'uuid').out));
  if (f.key) c.push(asSqlFilter(artifactFilterKey(f.key, p, t)));
  if (f.flow_run_id) c.push(asSqlFilter(new Criteria(p).any(`${t}.flow_run_id`, f.flow_run_id.any_, 'uuid').out));
  if (f.task_run_id) c.push(asSqlFilter(new Criteria(p).any(`${t}.task_run_id`, f.task_run_id.any_, 'uuid').out));
  if (f.type) c.push(asSqlFilter(artifactFilterType(f.type, p, t)));
  return asSqlFilter(c.out, f.operator);
}

/** ArtifactCollectionFilter, on `artifact_collection` rows. */
export function artifactCollectionFilter(f: ArtifactCollectionFilter, p: SqlParams, t: string): string {
  const c = new Criteria(p);
  if (f.latest_id) c.push(asSqlFilter(new Criteria(p).any(`${t}.latest_id`, f.latest_id.any_, 'uuid').out));
  if (f.key) {
    // A collection's key is NOT NULL: exists_ true always holds, false never (Q27).
    const { exists_, ...rest } = f.key;
    const conditions = artifactFilterKey(rest, p, t);
    if (exists_ != null) conditions.push(exists_ ? 'TRUE' : 'FALSE');
    c.push(asSqlFilter(conditions));
  }
  if (f.flow_run_id) c.push(asSqlFilter(new Criteria(p).any(`${t}.flow_run_id`, f.flow_run_id.any_, 'uuid').out));
  if (f.task_run_id) c.push(asSqlFilter(new Criteria(p).any(`${t}.task_run_id`, f.task_run_id.any_, 'uuid').out));
  if (f.type) c.push(asSqlFilter(artifactFilterType(f.type, p, t)));
  return asSqlFilter(c.out, f.operator);
}
