import type { ReadModelTables } from './model';
import { RUN_COLUMNS, RUN_TABLES, RunTable } from './run-tables';
import { compareText, SqlExecutor, timestampText } from './sql';

// Reads the tables back in the model's shape (canonical timestamps, JSON as
// stored text), so they can be compared with the reference fold.

const ts = (column: string) => `${timestampText(column)} AS ${column}`;

const ARTIFACT = `SELECT id, ${ts('created')}, ${ts('updated')}, key, type, description, data::text AS data, metadata_::text AS metadata_,
  flow_run_id, task_run_id, src_partition, src_offset::text AS src_offset FROM artifact ORDER BY id`;

const COLLECTION = `SELECT id, ${ts('created')}, ${ts('updated')}, key, latest_id, type, description, data::text AS data,
  metadata_::text AS metadata_, flow_run_id, task_run_id FROM artifact_collection ORDER BY key`;

const TOMBSTONE = `SELECT entity, id, ${ts('updated')} FROM tombstone`;

function runSelect(table: RunTable): string {
  const columns = RUN_COLUMNS[table].map(([name, kind]) => (kind === 'timestamp' ? ts(name) : name));
  return `SELECT ${columns.join(', ')} FROM ${table} ORDER BY id`;
}

export async function readTables(sql: SqlExecutor): Promise<ReadModelTables> {
  const rows = async (text: string) => (await sql.query<Record<string, unknown>>({ text, values: [] })).rows;
  const tables = {
    artifact: await rows(ARTIFACT),
    artifact_collection: await rows(COLLECTION),
    tombstone: (await rows(TOMBSTONE)).sort((a, b) => compareText(`${a.entity as string}:${a.id as string}`, `${b.entity as string}:${b.id as string}`)),
  } as Record<string, unknown[]>;
  for (const table of RUN_TABLES) tables[table] = await rows(runSelect(table));
  return tables as unknown as ReadModelTables;
}
