// Prefect's response objects (§9), built as JSON text in SQL so that a page is
// never parsed and re-serialised in JS: members in Prefect's order, strings
// escaped by to_json (the escapes Python's json.dumps uses, non-ASCII raw),
// stored `data` / `metadata_` JSON text spliced verbatim, UUIDs in PostgreSQL's
// lowercase hyphenated form, timestamps by prefect_timestamp() (a migration).

const text = (column: string) => `coalesce(to_json(${column})::text, 'null')`;
const uuid = (column: string) => `coalesce('"' || ${column} || '"', 'null')`;
const json = (column: string) => `coalesce(${column}::text, 'null')`;

function object(members: [name: string, sql: string][]): string {
  const parts = members.map(([name, sql], i) => `'${i === 0 ? '{' : ','}"${name}":' || ${sql}`);
  return `${parts.join(' || ')} || '}'`;
}

function members(t: string, withLatestId: boolean): [string, string][] {
  return [
    ['id', `'"' || ${t}.id || '"'`],
    ['created', `'"' || prefect_timestamp(${t}.created) || '"'`],
    ['updated', `'"' || prefect_timestamp(${t}.updated) || '"'`],
    ['key', text(`${t}.key`)],
    ...(withLatestId ? [['latest_id', `'"' || ${t}.latest_id || '"'`] as [string, string]] : []),
    ['type', text(`${t}.type`)],
    ['description', text(`${t}.description`)],
    ['data', json(`${t}.data`)],
    ['metadata_', json(`${t}.metadata_`)],
    ['flow_run_id', uuid(`${t}.flow_run_id`)],
    ['task_run_id', uuid(`${t}.task_run_id`)],
  ];
}

/** Artifact (§9.2): an artifact row, or a collection row for E3 (its own id, no latest_id, §9.3). */
export const artifactJson = (t: string) => object(members(t, false));

/** ArtifactCollection (§9.1). */
export const artifactCollectionJson = (t: string) => object(members(t, true));

/** The member names each builder emits, in order (checked against the response schemas in tests). */
export const ARTIFACT_MEMBERS = members('t', false).map(([name]) => name);
export const ARTIFACT_COLLECTION_MEMBERS = members('t', true).map(([name]) => name);
