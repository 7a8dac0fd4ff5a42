import { AsyncLocalStorage } from 'node:async_hooks';
import { failoverClient, MIGRATIONS, multiHostUrls, openDatabase, pgConnectionString, Sql, SqlStatement } from '@app/persistence';
import { Client, Pool, QueryArrayConfig, QueryConfig as PgQuery, QueryResult } from 'pg';

export class StartupError extends Error {}

// Statement shapes kept prepared on each pooled connection. A page's SQL is
// mostly JSON building whose parse and plan cost about as much as running it
// on a 200-row page; filter shapes are few in practice, and the bound keeps an
// unusual client from filling the backends with plans.
const MAX_PREPARED_SHAPES = 100;

/** How often each standby's health and replay lag are read. */
const HEALTH_CHECK_MS = 1000;

export interface ReadPoolsOptions {
  /** Hot standbys to read from (DATABASE_READ_URLS); none: everything goes to the primary. */
  readUrls?: string[];
  /** A standby whose replay trails by more than this is skipped (QUERY_MAX_STALENESS_MS). */
  maxStalenessMs?: number;
  /** PostgreSQL parallel workers per statement on every pool (QUERY_PARALLEL_WORKERS); default 0. */
  parallelWorkers?: number;
}

/**
 * The settings of the query app's sessions: timestamps are formatted in SQL, in UTC; and by
 * default no parallel workers. The app runs many small statements at once, most a LIMIT
 * over an index in page order: starting two workers cost more than it saved (issue #18, at
 * 1M versions: a versions page of 1/5 of the runs took p50 16 ms with workers, 5 ms
 * without, on one connection; 57 against 31 ms with 10), and under load the workers only
 * take cores from the other statements.
 */
const sessionOptions = (options: ReadPoolsOptions) => `-c timezone=UTC -c max_parallel_workers_per_gather=${options.parallelWorkers ?? 0}`;

export type ChangeFeedDatabase = Pick<QueryDatabase, 'sql' | 'rows' | 'listen'>;

export type ReadPoolState = 'up' | 'lagging' | 'down' | 'unknown';

export interface ReadPoolStatus {
  name: string;
  role: 'primary' | 'standby';
  state: ReadPoolState;
  replayLagBytes: number;
  replayLagSeconds: number;
}

interface ReadPool extends ReadPoolStatus {
  pool: Pool;
}

// Errors after which the same statement may succeed on another server: no connection
// (a Node socket error, or pg's own wording for a dropped or timed-out connection), a
// server shutting down or starting, or a standby cancelling it for replay (40001).
function retryable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  if (typeof code === 'string') return code.startsWith('08') || code.startsWith('57P') || code === '40001';
  return /Connection terminated|timeout exceeded when trying to connect|connection error/i.test((error as Error).message ?? '');
}

// The lag is the WAL received and not yet replayed. A restarted standby's receive position is
// the start of the segment its WAL receiver streams from, behind its replay position, until
// streaming resumes (seconds): nothing waits to be replayed then, so the lag is 0, not negative
// bytes and the age of the last replayed transaction (which held it 'lagging' while the
// primary wrote nothing).
const LAG_SQL = `SELECT pg_is_in_recovery() AS standby,
  greatest(coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0), 0)::float8 AS bytes,
  CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
       ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8 AS seconds`;

/**
 * The query app's PostgreSQL access: a pg pool on the primary and one per hot
 * standby, rows as their single text column (the JSON our SQL builds). Reads
 * go round-robin to the standbys that answer and trail by less than the
 * allowed staleness, else to the primary; a read that loses its connection is
 * retried on the next pool, so one standby dying fails no request. TypeORM is
 * only used to migrate (on the primary).
 */
export class QueryDatabase {
  private closed = false;
  private readonly statementNames = new Map<string, string>();
  private readonly primary: ReadPool;
  private readonly standbys: ReadPool[];
  private readonly maxStalenessMs: number;
  private next = 0;
  private timer?: NodeJS.Timeout;
  /** The pool a request is pinned to (a consistency token's checkpoint was read there). */
  private readonly pinned = new AsyncLocalStorage<ReadPool>();

  private constructor(
    pool: Pool,
    private readonly url: string,
    options: ReadPoolsOptions,
    poolSize: number,
  ) {
    this.primary = { name: poolName(url), role: 'primary', state: 'up', replayLagBytes: 0, replayLagSeconds: 0, pool };
    this.maxStalenessMs = options.maxStalenessMs ?? 5000;
    this.standbys = (options.readUrls ?? []).map((readUrl) => {
      const standby = new Pool({ connectionString: pgConnectionString(readUrl), max: poolSize, application_name: 'artifact-query', options: sessionOptions(options), connectionTimeoutMillis: 3000 });
      standby.on('error', () => undefined);
      return { name: poolName(readUrl), role: 'standby' as const, state: 'unknown' as const, replayLagBytes: 0, replayLagSeconds: 0, pool: standby };
    });
  }

  /**
   * Connects, then makes sure the schema is current. Migrating needs DDL
   * rights, so it is only attempted when a read-only check finds migrations
   * missing: a SELECT-only role can serve an up-to-date database.
   */
  static async open(url: string, poolSize = 10, options: ReadPoolsOptions = {}): Promise<QueryDatabase> {
    const failover = failoverClient(url);
    const pool = new Pool({
      connectionString: pgConnectionString(failover?.url ?? url),
      max: poolSize,
      application_name: 'artifact-query',
      options: sessionOptions(options),
      ...(failover ? { Client: failover.Client } : {}),
    });
    pool.on('error', () => undefined); // an idle client's connection dropped; the pool replaces it
    const db = new QueryDatabase(pool, url, options, poolSize);
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end();
      throw new StartupError(`PostgreSQL is unreachable at ${poolName(url)}: ${(e as Error).message}`);
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
    if (db.standbys.length > 0) {
      await db.checkStandbys();
      db.timer = setInterval(() => void db.checkStandbys(), HEALTH_CHECK_MS);
      db.timer.unref();
    }
    return db;
  }

  /** Reads each standby's role and replay lag; a promoted standby counts as up with no lag. */
  async checkStandbys(): Promise<void> {
    await Promise.all(
      this.standbys.map(async (standby) => {
        try {
          const { rows } = await standby.pool.query<{ standby: boolean; bytes: number; seconds: number }>(LAG_SQL);
          const row = rows[0]!;
          standby.replayLagBytes = row.standby ? row.bytes : 0;
          standby.replayLagSeconds = row.standby ? row.seconds : 0;
          standby.state = standby.replayLagSeconds * 1000 > this.maxStalenessMs ? 'lagging' : 'up';
        } catch {
          standby.state = 'down';
        }
      }),
    );
  }

  /** Each pool's state and replay lag (the primary's is always 0), for /api/ready and /metrics. */
  readPools(): ReadPoolStatus[] {
    return [this.primary, ...this.standbys].map(({ name, role, state, replayLagBytes, replayLagSeconds }) => ({ name, role, state, replayLagBytes, replayLagSeconds }));
  }

  /**
   * Where reads go, in order of preference: usable standbys from the next in turn, then the
   * primary, then the other standbys: while there is no primary, a standby with received WAL
   * left to replay counts as lagging once its last replayed commit is older than the allowed
   * staleness, and until a promotion a stale answer beats none.
   */
  private candidates(): ReadPool[] {
    const pinned = this.pinned.getStore();
    if (pinned) return [pinned];
    const usable = this.standbys.filter((s) => s.state === 'up');
    const start = usable.length ? this.next++ % usable.length : 0;
    return [...usable.slice(start), ...usable.slice(0, start), this.primary, ...this.standbys.filter((s) => s.state !== 'up')];
  }

  private async run<R extends QueryResult>(query: PgQuery | QueryArrayConfig): Promise<R> {
    const pools = this.candidates();
    for (let i = 0; ; i++) {
      const target = pools[i]!;
      try {
        return (await target.pool.query(query as PgQuery)) as R;
      } catch (error) {
        if (i === pools.length - 1 || !retryable(error)) throw error;
        if (target.role === 'standby') target.state = 'down';
      }
    }
  }

  /**
   * Runs `read` with every query on one pool: the first usable one on which `ready`
   * (given that pool's SQL) resolves; a pool that loses its connection meanwhile is
   * left for the next. Read your writes checks the checkpoint where it then reads.
   */
  async pinnedRead<T>(ready: (sql: Sql) => Promise<void>, read: () => Promise<T>): Promise<T> {
    const pools = this.candidates();
    for (let i = 0; ; i++) {
      const target = pools[i]!;
      try {
        await ready(poolSql(target.pool));
        return await this.pinned.run(target, read);
      } catch (error) {
        if (i === pools.length - 1 || !retryable(error)) throw error;
        if (target.role === 'standby') target.state = 'down';
      }
    }
  }

  async pendingMigrations(): Promise<string[]> {
    const names = MIGRATIONS.map((m) => new m().name ?? m.name);
    // Two statements: one naming a missing table fails at parse time, whatever a CASE around it says.
    const { rows: found } = await this.primary.pool.query<{ present: boolean }>(`SELECT to_regclass('schema_migration') IS NOT NULL AS present`);
    const rows = found[0]?.present ? (await this.primary.pool.query<{ name: string }>('SELECT name FROM schema_migration')).rows : [];
    const applied = new Set(rows.map((r) => r.name));
    return names.filter((n) => !applied.has(n));
  }

  /** The first column of every row, as text. */
  async texts(statement: SqlStatement): Promise<string[]> {
    const name = this.statementName(statement);
    const result = await this.run<QueryResult<string[]>>({ name, text: statement.text, values: statement.values, rowMode: 'array' });
    return result.rows.map((row) => row[0] as string);
  }

  /** Every column of every row, as text. */
  async rows(statement: SqlStatement): Promise<string[][]> {
    const name = this.statementName(statement);
    const result = await this.run<QueryResult<string[]>>({ name, text: statement.text, values: statement.values, rowMode: 'array' });
    return result.rows;
  }

  /**
   * A connection of its own to the primary (notifications are not replayed on
   * standbys), outside the pool, LISTENing on `channel` (the subscriptions' change feed).
   */
  async listen(channel: string, onNotify: () => void, onLost: (error: Error) => void): Promise<Client> {
    const failover = failoverClient(this.url);
    const client = new (failover?.Client ?? Client)({ connectionString: pgConnectionString(failover?.url ?? this.url), application_name: 'artifact-query-listen' });
    client.on('notification', onNotify);
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('listening connection ended')));
    await client.connect();
    await client.query(`LISTEN ${channel}`);
    return client;
  }

  /**
   * The change feed's reads, always on the primary: its positions and the rows it
   * reads for them then come from one server, which a standby behind another
   * could not promise.
   */
  primaryFeed(): ChangeFeedDatabase {
    const onPrimary = <T>(read: () => Promise<T>) => this.pinned.run(this.primary, read);
    return {
      sql: () => {
        const sql = this.sql();
        return { query: (statement) => onPrimary(() => sql.query(statement)) };
      },
      rows: (statement) => onPrimary(() => this.rows(statement)),
      listen: (channel, onNotify, onLost) => this.listen(channel, onNotify, onLost),
    };
  }

  /** Plain parameterised SQL on the pool (the persistence library's readers take this). */
  sql(): Sql {
    return {
      query: async <Row>(statement: SqlStatement) => {
        const result = await this.run({ text: statement.text, values: statement.values });
        return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
      },
    };
  }

  /** The name a statement is kept prepared under; none (planned for each execution) when it asks so or the shapes are many. */
  private statementName({ text, prepare }: SqlStatement): string | undefined {
    if (prepare === false) return undefined;
    let name = this.statementNames.get(text);
    if (name === undefined && this.statementNames.size < MAX_PREPARED_SHAPES) {
      name = `artifact_query_${this.statementNames.size}`;
      this.statementNames.set(text, name);
    }
    return name;
  }

  /** Connections of the pool by state, for the `query_db_pool_connections` gauge. */
  poolStats(): { in_use: number; idle: number; waiting: number } {
    const pools = [this.primary, ...this.standbys].map((p) => p.pool);
    const sum = (f: (p: Pool) => number): number => pools.reduce((n, p) => n + f(p), 0);
    return { in_use: sum((p) => p.totalCount - p.idleCount), idle: sum((p) => p.idleCount), waiting: sum((p) => p.waitingCount) };
  }

  /** Whether reads can be answered: a usable standby, else the primary, answers. */
  async ping(): Promise<boolean> {
    try {
      await this.run({ text: 'SELECT 1' });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all([this.primary, ...this.standbys].map((p) => p.pool.end()));
  }
}

function poolSql(pool: Pool): Sql {
  return {
    query: async <Row>(statement: SqlStatement) => {
      const result = await pool.query({ text: statement.text, values: statement.values });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    },
  };
}

/** A pool's name in /api/ready and /metrics: `host:port/db`, every host of a multi-host URL (`h1:5432,h2:5432/db`); never the credentials. */
export function poolName(url: string): string {
  const hosts = multiHostUrls(url);
  if (hosts) return `${hosts.map((h) => `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`).join(',')}${hostOf(hosts[0]!.url)?.path ?? ''}`;
  const one = hostOf(url);
  return one ? `${one.host}:${one.port}${one.path}` : 'DATABASE_URL';
}

function hostOf(url: string): { host: string; port: string; path: string } | undefined {
  try {
    const u = new URL(url);
    return { host: u.hostname, port: u.port || '5432', path: u.pathname };
  } catch {
    return undefined;
  }
}
