import type { ValueKind } from '@app/contracts';
import type { SqlStatement } from '@app/persistence/statement';

export type { SqlStatement };

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
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function isScalar(value: unknown): value is string | number | boolean | bigint | null | undefined {
  return value === null || value === undefined || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
}

/** Where JSON.stringify's escaping would differ from an array literal's (control characters, lone surrogates). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const JSON_ONLY_ESCAPES = /[\u0000-\u001f\ud800-\udfff]/;

/**
 * A PostgreSQL array literal of flat scalars. Usually JSON.stringify's text with braces
 * for brackets: a JSON string escapes `"` and `\` as an array element does, and `null`
 * reads as NULL. Values where the two differ (control characters, lone surrogates,
 * non-finite numbers, bigints) are quoted one by one, as node-pg does.
 */
export function arrayLiteral(values: readonly (string | number | boolean | bigint | null | undefined)[]): string {
  let jsonSafe = true;
  for (const v of values) {
    if (typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v))) jsonSafe = false;
  }
  if (jsonSafe) {
    const json = JSON.stringify(values);
    if (!json.includes('\\') || !values.some((v) => typeof v === 'string' && JSON_ONLY_ESCAPES.test(v))) return `{${json.slice(1, -1)}}`;
  }
  return `{${values.map(arrayElement).join(',')}}`;
}

/**
 * The statement with each flat array of scalars passed as its PostgreSQL array literal
 * text (arrayLiteral): node-pg builds the same literal element by element, which cost
 * ~10% of the ingest's CPU on big batches. Other values are left to node-pg.
 */
export function withArrayLiterals(statement: SqlStatement): SqlStatement {
  const values = statement.values.map((value) => (Array.isArray(value) && value.every(isScalar) ? arrayLiteral(value) : value));
  return { text: statement.text, values };
}

/** The array parameter type of each value kind for `unnest`: `tags` as one JSON array text per row (unnest would flatten a text[][]), an object as jsonb text. */
export const ARRAY_TYPE: Record<ValueKind, string> = {
  uuid: 'uuid[]',
  timestamp: 'timestamptz[]',
  text: 'text[]',
  tags: 'json[]',
  boolean: 'bool[]',
  int32: 'int4[]',
  json: 'json[]',
  object: 'jsonb[]',
};
