// Prefect's response objects (§9), built as JSON text in SQL so that a page is
// never parsed and re-serialised in JS: members in Prefect's order, strings
// escaped by to_json (the escapes Python's json.dumps uses, non-ASCII raw),
// stored `data` / `metadata_` JSON text spliced verbatim, UUIDs in PostgreSQL's
// lowercase hyphenated form, timestamps by prefect_timestamp() (a migration).
// A file of its own, without TypeORM: the filters build responses from it, and
// migration 1700000000110 stores each collection row's JSON made from it (changing
// the members needs a migration that makes that column again).

const text = (column: string) => `coalesce(to_json(${column})::text, 'null')`;
const uuid = (column: string) => `coalesce('"' || ${column} || '"', 'null')`;
const json = (column: string) => `coalesce(${column}::text, 'null')`;

function object(members: [name: string, sql: string][]): string {
  const parts = members.map(([name, sql], i) => `'${i === 0 ? '{' : ','}"${name}":' || ${sql}`);
  return `${parts.join(' || ')} || '}'`;
}

/** The members of a row of alias `t`, or of bare column (or parameter) names when `t` is empty. */
function members(t: string, withLatestId: boolean): [string, string][] {
  const c = (column: string) => (t ? `${t}.${column}` : column);
  return [
    ['id', `'"' || ${c('id')} || '"'`],
    ['created', `'"' || prefect_timestamp(${c('created')}) || '"'`],
    ['updated', `'"' || prefect_timestamp(${c('updated')}) || '"'`],
    ['key', text(c('key'))],
    ...(withLatestId ? [['latest_id', `'"' || ${c('latest_id')} || '"'`] as [string, string]] : []),
    ['type', text(c('type'))],
    ['description', text(c('description'))],
    ['data', json(c('data'))],
    ['metadata_', json(c('metadata_'))],
    ['flow_run_id', uuid(c('flow_run_id'))],
    ['task_run_id', uuid(c('task_run_id'))],
  ];
}

/** Artifact (§9.2): an artifact row, or a collection row for E3 (its own id, no latest_id, §9.3). */
export const artifactJson = (t: string) => object(members(t, false));

/** ArtifactCollection (§9.1), built from the row's columns. */
export const artifactCollectionJson = (t: string) => object(members(t, true));

/**
 * A collection row's ArtifactCollection JSON as stored (migration 1700000000110): the
 * same text as artifactCollectionJson, made once per write instead of once per read.
 */
export const storedCollectionJson = (t: string) => `${t}.row_json`;

/** The member names each builder emits, in order (checked against the response schemas in tests). */
export const ARTIFACT_MEMBERS = members('t', false).map(([name]) => name);
export const ARTIFACT_COLLECTION_MEMBERS = members('t', true).map(([name]) => name);
