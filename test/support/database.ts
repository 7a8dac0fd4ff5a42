import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { openDatabase } from '@app/persistence';
import { createDatabase } from '../../infra/local/postgres';

export interface TestDatabase {
  url: string;
  dataSource: DataSource;
  drop(): Promise<void>;
}

function requireServerUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through jest (its globalSetup starts PostgreSQL)');
  return url;
}

/** A fresh, migrated database of its own for one spec file (docs/style.md: each test owns its records). */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const database = await createDatabase(requireServerUrl(), `${prefix}_${randomBytes(5).toString('hex')}`);
  const dataSource = await openDatabase({ url: database.url, applicationName: `jest-${prefix}`, poolSize: 4 });
  return {
    url: database.url,
    dataSource,
    async drop() {
      await dataSource.destroy();
      await database.drop();
    },
  };
}
