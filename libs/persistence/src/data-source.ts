import { DataSource } from 'typeorm';
import { InitialSchema1700000000001 } from './migrations/1700000000001-initial-schema';
import { QueryReadSide1700000000010 } from './migrations/1700000000010-query-read-side';
import { CheckpointCounters1700000000020 } from './migrations/1700000000020-checkpoint-counters';
import { FewerCollectionIndexes1700000000030 } from './migrations/1700000000030-fewer-collection-indexes';
import { KeySortNullsPostgres1700000000040 } from './migrations/1700000000040-key-sort-nulls-postgres';
import { PydanticFloatText1700000000050 } from './migrations/1700000000050-pydantic-float-text';
import { CollectionRunIdIndex1700000000060 } from './migrations/1700000000060-collection-run-id-index';
import { CollectionChange1700000000070 } from './migrations/1700000000070-collection-change';
import { CollectionRunColumns1700000000080 } from './migrations/1700000000080-collection-run-columns';
import { ReadModelTally1700000000090 } from './migrations/1700000000090-read-model-tally';
import { VersionsByRunState1700000000100 } from './migrations/1700000000100-versions-by-run-state';
import { CollectionRowJson1700000000110 } from './migrations/1700000000110-collection-row-json';
import { CollectionRunTags1700000000120 } from './migrations/1700000000120-collection-run-tags';
import { VersionRunDeployment1700000000130 } from './migrations/1700000000130-version-run-deployment';
import { CollectionCreatedRuns1700000000140 } from './migrations/1700000000140-collection-created-runs';
import { TallyRunStatePerCall1700000000150 } from './migrations/1700000000150-tally-run-state-per-call';
import { VersionDeploymentIndex1700000000160 } from './migrations/1700000000160-version-deployment-index';
import { pgConnectionString } from './connection-url';
import { failoverClient, failoverDriver } from './failover';

// The apps hold connections by this type; TypeORM itself stays behind this library.
export type { DataSource };

export const MIGRATIONS = [InitialSchema1700000000001, QueryReadSide1700000000010, CheckpointCounters1700000000020, FewerCollectionIndexes1700000000030, KeySortNullsPostgres1700000000040, PydanticFloatText1700000000050, CollectionRunIdIndex1700000000060, CollectionChange1700000000070, CollectionRunColumns1700000000080, ReadModelTally1700000000090, VersionsByRunState1700000000100, CollectionRowJson1700000000110, CollectionRunTags1700000000120, VersionRunDeployment1700000000130, CollectionCreatedRuns1700000000140, TallyRunStatePerCall1700000000150, VersionDeploymentIndex1700000000160];

// One arbitrary constant shared by every app and instance: whoever holds it runs
// the migrations, the others wait and then find nothing left to do.
const MIGRATION_LOCK_ID = 727_311_001;

export interface DataSourceOptions {
  url: string;
  applicationName: string;
  poolSize?: number;
  /** Schemas for unqualified names, first match wins (the rebuild writes the same SQL into a shadow schema); default the server's. */
  searchPath?: string[];
}

export function createDataSource(options: DataSourceOptions): DataSource {
  const failover = failoverClient(options.url);
  return new DataSource({
    type: 'postgres',
    ...(failover ? { url: pgConnectionString(failover.url), driver: failoverDriver(failover.Client) } : { url: pgConnectionString(options.url) }),
    applicationName: options.applicationName,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migration',
    migrationsTransactionMode: 'each',
    // migrate() holds the advisory lock on one connection while the migrations run on another.
    poolSize: Math.max(2, options.poolSize ?? 10),
    // Timestamps are formatted in SQL; keep the session in UTC regardless of the server.
    extra: { options: `-c timezone=UTC${options.searchPath ? ` -c search_path=${options.searchPath.join(',')}` : ''}` },
    logging: false,
  });
}

/** Runs pending migrations while holding a session-level advisory lock. */
export async function migrate(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
  }
}

/** Opens the data source (fails fast when PostgreSQL is unreachable) and migrates. */
export async function openDatabase(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = createDataSource(options);
  await dataSource.initialize();
  await migrate(dataSource);
  return dataSource;
}
