import { DataSource, QueryRunner } from 'typeorm';
import type { SqlStatement } from './statement';

export type { SqlStatement };

export interface SqlResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** The one way our code runs SQL: parameterised text, rows back. */
export interface Sql {
  query<Row = Record<string, unknown>>(statement: SqlStatement): Promise<SqlResult<Row>>;
}

async function run<Row>(runner: QueryRunner, statement: SqlStatement): Promise<SqlResult<Row>> {
  const result = (await runner.query(statement.text, statement.values, true)) as { records: Row[]; affected?: number };
  return { rows: result.records, rowCount: result.affected ?? result.records.length };
}

/** SQL on one connection (inside a transaction) or, for a DataSource, on any pooled connection. */
export function sqlOf(source: QueryRunner | DataSource): Sql {
  if (!(source instanceof DataSource)) return { query: (statement) => run(source, statement) };
  return {
    async query<Row>(statement: SqlStatement): Promise<SqlResult<Row>> {
      const runner = source.createQueryRunner();
      try {
        return await run<Row>(runner, statement);
      } finally {
        await runner.release();
      }
    },
  };
}

/** Runs `work` in one transaction on a dedicated connection; rolls back on any error. */
export async function inTransaction<T>(dataSource: DataSource, work: (sql: Sql) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    try {
      const result = await work(sqlOf(runner));
      await runner.commitTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}
