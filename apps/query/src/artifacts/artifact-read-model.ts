import { ArtifactQueryFilters, ArtifactTable, artifactOrderBy, artifactWhere, SqlFragment, SqlParams } from '@app/filters';
import { QueryDatabase } from '../query-database';
import { artifactCollectionJson, artifactJson } from './artifact-json.sql';
import type { ListRequest } from './artifact-requests';

/** The artifact read queries; every answer is ready-made JSON text. */
export class ArtifactReadModel {
  constructor(private readonly db: QueryDatabase) {}

  /** E1 / E4: a JSON array of ArtifactCollection / Artifact objects. */
  async list<T extends ArtifactTable>(table: T, request: ListRequest<T>): Promise<string> {
    const rows = await this.db.texts(listStatement(table, request));
    return `[${rows.join(',')}]`;
  }

  /** E2 / E5: a bare JSON integer. */
  async count<T extends ArtifactTable>(table: T, filters: ArtifactQueryFilters<T>): Promise<string> {
    const [count] = await this.db.texts(countStatement(table, filters));
    return count ?? '0';
  }

  /** E6: one version by id, in the Artifact shape. */
  async byId(id: string): Promise<string | undefined> {
    const [row] = await this.db.texts({ text: `SELECT ${artifactJson('a')} FROM artifact a WHERE a.id = $1::uuid`, values: [id] });
    return row;
  }

  /** E3: the collection row of a key, in the Artifact shape (its own id, no latest_id; Q1). */
  async latestByKey(key: string): Promise<string | undefined> {
    const [row] = await this.db.texts({
      text: `SELECT ${artifactJson('c')} FROM artifact_collection c WHERE c.key = $1::text`,
      values: [key],
    });
    return row;
  }
}

const JSON_OF: Record<ArtifactTable, (t: string) => string> = {
  artifact: artifactJson,
  artifact_collection: artifactCollectionJson,
};

export function listStatement<T extends ArtifactTable>(table: T, request: ListRequest<T>): SqlFragment {
  const p = new SqlParams();
  const where = artifactWhere(table, request.filters, p, 't');
  const limit = p.add(request.limit, 'bigint');
  const json = JSON_OF[table]('t');
  if (request.offset === 0) {
    const text = `SELECT ${json} FROM ${table} t WHERE ${where} ORDER BY ${artifactOrderBy(table, request.sort, 't')} LIMIT ${limit}`;
    return { text, values: p.values };
  }
  // With an OFFSET, pick the page's ids first: the skipped rows are then never
  // fetched nor turned into JSON (index-only where the order's index allows).
  // `= ANY(ARRAY(...))` keeps the page an InitPlan looked up by primary key,
  // where a semi-join could hash a scan of the whole table.
  const offset = p.add(request.offset, 'bigint');
  const page = `SELECT t.id FROM ${table} t WHERE ${where} ORDER BY ${artifactOrderBy(table, request.sort, 't')} LIMIT ${limit} OFFSET ${offset}`;
  const text = `SELECT ${json} FROM ${table} t WHERE t.id = ANY(ARRAY(${page})) ORDER BY ${artifactOrderBy(table, request.sort, 't')}`;
  return { text, values: p.values };
}

export function countStatement<T extends ArtifactTable>(table: T, filters: ArtifactQueryFilters<T>): SqlFragment {
  const p = new SqlParams();
  const where = artifactWhere(table, filters, p, 't');
  if (where === 'TRUE') {
    // Unfiltered: the trigger-kept row count (migration 1700000000010).
    return { text: `SELECT coalesce(sum(n), 0)::text FROM read_model_row_count WHERE table_name = $1::text`, values: [table] };
  }
  return { text: `SELECT count(*)::text FROM ${table} t WHERE ${where}`, values: p.values };
}
