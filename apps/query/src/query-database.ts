import { MIGRATIONS, openDatabase, pgConnectionString, Sql, SqlStatement } from '@app/persistence';
import { Pool } from 'pg';

export class StartupError extends Error {}

// Statement shapes kept prepared on each pooled connection. A page's SQL is
// mostly JSON building whose parse and plan cost about as much as running it
// on a 200-row page; filter shapes are few in practice, and the bound keeps an
// unusual client from filling the backends with plans.
const MAX_PREPARED_SHAPES = 100;

/**
 * The query app's PostgreSQL access: one pg pool, rows as their single text
 * column (the JSON our SQL builds). TypeORM is only used to migrate.
 */
export class QueryDatabase {
  private closed = false;
  private readonly statementNames = new Map<string, string>();

  private constructor(private readonly pool: Pool) {}

  /**
   * Connects, then makes sure the schema is current. Migrating needs DDL
   * rights, so it is only attempted when a read-only check finds migrations
   * missing: a SELECT-only role can serve an up-to-date database.
   */
  static async open(url: string, poolSize = 10): Promise<QueryDatabase> {
    const pool = new Pool({ connectionString: pgConnectionString(url), max: poolSize, application_name: 'artifact-query', options: '-c timezone=UTC' });
    pool.on('error', () => undefined); // an idle client's connection dropped; the pool replaces it
    const db = new QueryDatabase(pool);
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end();
      throw new StartupError(`PostgreSQL is unreachable at ${describe(url)}: ${(e as Error).message}`);
    }
    try {
      if ((await db.pendingMigrations()).length > 0) {
        const dataSource = await openDatabase({ url, applicationName: 'artifact-query-migrate', poolSize: 2 });
        await dataSource.destroy();
      }
    } catch (e) {
      await pool.end();
      throw new StartupError(`cannot bring the schema up to date: ${(e as Error).message}`);
    }
    return db;
  }

  async pendingMigrations(): Promise<string[]> {
    const names = MIGRATIONS.map((m) => new m().name ?? m.name);
    // Two statements: one naming a missing table fails at parse time, whatever a CASE around it says.
    const { rows: found } = await this.pool.query<{ present: boolean }>(`SELECT to_regclass('schema_migration') IS NOT NULL AS present`);
    const rows = found[0]?.present ? (await this.pool.query<{ name: string }>('SELECT name FROM schema_migration')).rows : [];
    const applied = new Set(rows.map((r) => r.name));
    return names.filter((n) => !applied.has(n));
  }

  /** The first column of every row, as text. */
  async texts(statement: SqlStatement): Promise<string[]> {
    const name = this.statementName(statement.text);
    const result = await this.pool.query<string[]>({ name, text: statement.text, values: statement.values, rowMode: 'array' });
    return result.rows.map((row) => row[0] as string);
  }

  /** Plain parameterised SQL on the pool (the persistence library's readers take this). */
  sql(): Sql {
    return {
      query: async <Row>(statement: SqlStatement) => {
        const result = await this.pool.query({ text: statement.text, values: statement.values });
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
      },
    };
  }

  private statementName(text: string): string | undefined {
    let name = this.statementNames.get(text);
    if (name === undefined && this.statementNames.size < MAX_PREPARED_SHAPES) {
      name = `artifact_query_${this.statementNames.size}`;
      this.statementNames.set(text, name);
    }
    return name;
  }

  /** Connections of the pool by state, for the `query_db_pool_connections` gauge. */
  poolStats(): { in_use: number; idle: number; waiting: number } {
    return { in_use: this.pool.totalCount - this.pool.idleCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
