import { inTransaction as transaction } from '@app/persistence';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { projectBatch } from './batch';
import { readTables } from './dump';
import { SqlExecutor } from './sql';
import { checkEachCaseWith, settleCaseChecks } from './testing/given';

// The given/when/then projection specs, run again here with every case also
// applied to a real PostgreSQL: the history as one transaction, the batch as the
// next, and the tables read back must equal the in-memory store's. The specs
// themselves stay unit specs (no services); this file re-registers their tests.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('given_when');
});

afterAll(async () => {
  await db?.drop();
});

/** One transaction on the spec's database (persistence's own helper, as the ingest app runs batches). */
const inTransaction = <T>(work: (sql: SqlExecutor) => Promise<T>): Promise<T> => transaction(db.dataSource, work);

let cases = 0;
checkEachCaseWith(async (history, batch, expected) => {
  cases++;
  await db.dataSource.query('TRUNCATE artifact, artifact_collection, tombstone, flow, deployment, flow_run, task_run');
  if (history.length) await inTransaction((sql) => projectBatch(sql, history));
  await inTransaction((sql) => projectBatch(sql, batch));
  expect(await inTransaction((sql) => readTables(sql))).toEqual(expected);
});

afterEach(settleCaseChecks);

/* eslint-disable @typescript-eslint/no-require-imports -- registers the specs' tests in this file */
require('./artifacts.projection.spec');
require('./runs.projection.spec');

afterAll(() => {
  // Not vacuous: the specs' cases did reach PostgreSQL.
  expect(cases).toBeGreaterThan(20);
});
