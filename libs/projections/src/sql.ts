/** A parameterised statement: positional `$n` parameters, arrays passed as single parameters. */
export interface SqlStatement {
  text: string;
  values: unknown[];
}

/** What the projections need to run statements: a kafka batch's transaction (persistence's `Sql` fits). */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(statement: SqlStatement): Promise<{ rows: Row[] }>;
}

export type Row = Record<string, unknown>;

/** Selects a timestamptz as our canonical text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`): node-pg's Date would drop the microseconds. */
export function timestampText(expr: string): string {
  return `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

export function strOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : str(value);
}

function arrayElement(value: string | number | boolean | bigint | null | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  const s = String(value);
  return s.includes('"') || s.includes('\\') ? `"${s.replace(/["\\]/g, '\\$&')}"` : `"${s}"`;
}

function isScalar(value: unknown): value is string | number | boolean | bigint | null | undefined {
  return value === null || value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
}

/**
 * The statement with each flat array of scalars passed as its PostgreSQL array literal
 * text, as node-pg would send it (every element quoted, NULL for null) but built with
 * one join instead of node-pg's per-element concatenation and regex: a big batch
 * carries tens of thousands of array elements. Other values are left to node-pg.
 */
export function withArrayLiterals(statement: SqlStatement): SqlStatement {
  const values = statement.values.map((value) => (Array.isArray(value) && value.every(isScalar) ? `{${value.map(arrayElement).join(',')}}` : value));
  return { text: statement.text, values };
}
