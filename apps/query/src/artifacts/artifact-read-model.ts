import { artifactJson, ArtifactQueryFilters, ArtifactTable, countStatement, ListRequest, listStatement } from '@app/filters';
import { QueryDatabase } from '../query-database';

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
