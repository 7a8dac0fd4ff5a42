/**
 * The project's one SQL statement type: `text` uses $1..$n, `values[i]` binds $(i+1),
 * an array goes as one parameter. Projections and filters build it, persistence runs it.
 * A file of its own, without TypeORM, so the pure libs can name it.
 */
export interface SqlStatement {
  text: string;
  values: unknown[];
}
