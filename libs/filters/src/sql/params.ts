import type { SqlStatement } from '@app/persistence/statement';
import type { Operator } from '../schemas/common';

/** Collects bind values; every value becomes one positional parameter with an explicit cast (arrays as one array parameter). */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }

  /**
   * The statement of `text` with only the parameters it references, renumbered
   * in order: a condition dropped whole (an OR holding TRUE) leaves its values
   * behind, and PostgreSQL cannot type a parameter the text never uses.
   */
  statement(text: string): SqlStatement {
    const renumbered = new Map<string, string>();
    const values: unknown[] = [];
    const compact = text.replace(/\$(\d+)::/g, (_, n: string) => {
      let to = renumbered.get(n);
      if (to === undefined) {
        values.push(this.values[Number(n) - 1]);
        to = `$${values.length}::`;
        renumbered.set(n, to);
      }
      return to;
    });
    return { text: compact, values };
  }
}

/**
 * PrefectFilterBaseModel.as_sql_filter: TRUE for an empty list, else the
 * conditions joined by the object's operator (AND for objects without one).
 * A TRUE (an empty child) is left out of an AND, where it changes nothing, and
 * makes an OR TRUE as a whole, as SQLAlchemy's `or_` does with a `true()`: the
 * other conditions and their values are then gone (SqlParams.statement), so a
 * value Prefect would fail to bind is never bound.
 */
export function asSqlFilter(conditions: string[], operator: Operator = 'and_'): string {
  if (operator === 'and_') conditions = conditions.filter((c) => c !== 'TRUE');
  else if (conditions.includes('TRUE')) return 'TRUE';
  if (conditions.length === 0) return 'TRUE';
  if (conditions.length === 1) return conditions[0] as string;
  return `(${conditions.join(operator === 'or_' ? ' OR ' : ' AND ')})`;
}

export type List = readonly string[] | null | undefined;

/**
 * PostgreSQL text cannot hold U+0000, so no stored value equals or contains a
 * string with one; binding it would fail the whole query instead.
 */
export const storable = (value: string) => !value.includes('\0');

/**
 * The criterion families of §7.2. Each pushes its condition onto `out`, or
 * nothing when the criterion is absent or (for some) empty.
 */
export class Criteria {
  constructor(
    private readonly p: SqlParams,
    readonly out: string[] = [],
  ) {}

  /**
   * `col IN any_`; an empty list matches nothing. One value is compared with
   * `=`, which lets the planner read an index in ORDER BY order ((type, id)).
   */
  any(column: string, list: List, type: string): this {
    if (list == null) return this;
    list = list.filter(storable);
    if (list.length === 0) this.out.push('FALSE');
    else if (list.length === 1) this.out.push(`${column} = ${this.p.add(list[0], type)}`);
    else this.out.push(`${column} = ANY(${this.p.add(list, `${type}[]`)})`);
    return this;
  }

  /** `col NOT IN not_any_`; NULL never matches, an empty list imposes nothing. */
  notAny(column: string, list: List, type: string): this {
    if (list == null || list.length === 0) return this;
    const values = list.filter(storable);
    if (values.length === 0) this.out.push(`${column} IS NOT NULL`);
    else if (values.length === 1) this.out.push(`${column} <> ${this.p.add(values[0], type)}`);
    else this.out.push(`${column} <> ALL(${this.p.add(values, `${type}[]`)})`);
    return this;
  }

  /** `col ILIKE '%like_%'` with the caller's `%` and `_` left live (Prefect never escapes them); '' imposes nothing. */
  like(column: string, value: string | null | undefined): this {
    if (value == null || value === '') return this;
    this.out.push(storable(value) ? `${column} ILIKE ${this.p.add(`%${value}%`, 'text')}` : 'FALSE');
    return this;
  }

  isNull(column: string, isNull: boolean | null | undefined): this {
    if (isNull == null) return this;
    this.out.push(isNull ? `${column} IS NULL` : `${column} IS NOT NULL`);
    return this;
  }

  /** Tags are a NOT NULL text[]; `is_null_` means "no tags" (Prefect compares with `[]`). */
  tags(column: string, f: { all_?: List; any_?: List; is_null_?: boolean | null }): this {
    if (f.all_ != null && f.all_.length > 0) this.out.push(f.all_.every(storable) ? `${column} @> ${this.p.add(f.all_, 'text[]')}` : 'FALSE');
    if (f.any_ != null) {
      const any = f.any_.filter(storable);
      this.out.push(any.length === 0 ? 'FALSE' : `${column} && ${this.p.add(any, 'text[]')}`);
    }
    if (f.is_null_ != null) this.out.push(f.is_null_ ? `${column} = '{}'::text[]` : `${column} <> '{}'::text[]`);
    return this;
  }

  before(column: string, instant: string | null | undefined): this {
    if (instant != null) this.out.push(`${column} <= ${this.p.add(instant, 'timestamptz')}`);
    return this;
  }

  after(column: string, instant: string | null | undefined): this {
    if (instant != null) this.out.push(`${column} >= ${this.p.add(instant, 'timestamptz')}`);
    return this;
  }

  eq(column: string, value: boolean | null | undefined): this {
    if (value != null) this.out.push(`${column} = ${this.p.add(value, 'boolean')}`);
    return this;
  }

  /** Adds a ready-made condition (a child object's `as_sql_filter`). */
  push(condition: string): this {
    this.out.push(condition);
    return this;
  }

  param(value: unknown, type: string): string {
    return this.p.add(value, type);
  }
}
