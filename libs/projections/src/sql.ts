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
