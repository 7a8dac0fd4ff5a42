import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { openDatabase } from '@app/persistence';

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
  const serverUrl = new URL(requireServerUrl());
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl.toString());
  url.pathname = `/${name}`;
  const dataSource = await openDatabase({ url: url.toString(), applicationName: `jest-${prefix}`, poolSize: 4 });
  return {
    url: url.toString(),
    dataSource,
    async drop() {
      await dataSource.destroy();
      const client = new Client({ connectionString: serverUrl.toString() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
