/**
 * The project's one SQL statement type: `text` uses $1..$n, `values[i]` binds $(i+1),
 * an array goes as one parameter. Projections and filters build it, persistence runs it.
 * A file of its own, without TypeORM, so the pure libs can name it.
 */
export interface SqlStatement {
  text: string;
  values: unknown[];
  /**
   * false: planned anew for each execution's values, never kept as a prepared
   * statement, whose generic plan cannot see how many rows the values select.
   */
  prepare?: false;
}
