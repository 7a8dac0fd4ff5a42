import { artifactJson, ArtifactQueryFilters, ArtifactTable, countStatement, ListRequest, listStatement, TAG_STATISTICS, TagStatistics, tagStatisticsOf } from '@app/filters';
import { QueryDatabase } from '../query-database';

/** How long the statistics of the collection's tag copies are used before they are read again. */
export const TAG_STATISTICS_MAX_AGE_MS = 60_000;

/** The artifact read queries; every answer is ready-made JSON text. */
export class ArtifactReadModel {
  private tagStatistics?: TagStatistics;
  private tagStatisticsRead = -Infinity;

  constructor(private readonly db: QueryDatabase) {}

  /** E1 / E4: a JSON array of ArtifactCollection / Artifact objects. */
  async list<T extends ArtifactTable>(table: T, request: ListRequest<T>): Promise<string> {
    const { flows, flow_runs } = request.filters;
    const tagged = table === 'artifact_collection' && (flows?.tags != null || flow_runs?.tags != null);
    const rows = await this.db.texts(listStatement(table, tagged ? { ...request, tagStatistics: this.currentTagStatistics() } : request));
    return `[${rows.join(',')}]`;
  }

  /**
   * The statistics of the collection's tag copies as last read, read again in the
   * background once older than TAG_STATISTICS_MAX_AGE_MS: a request never waits for
   * them; until they are read (or while they cannot be), PostgreSQL alone plans a tag's page.
   */
  private currentTagStatistics(): TagStatistics | undefined {
    const now = Date.now();
    if (now - this.tagStatisticsRead >= TAG_STATISTICS_MAX_AGE_MS) {
      this.tagStatisticsRead = now;
      this.db.rows(TAG_STATISTICS).then(
        (rows) => (this.tagStatistics = tagStatisticsOf(rows)),
        // Tried again in 5 s.
        () => (this.tagStatisticsRead = now - TAG_STATISTICS_MAX_AGE_MS + 5_000),
      );
    }
    return this.tagStatistics;
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
