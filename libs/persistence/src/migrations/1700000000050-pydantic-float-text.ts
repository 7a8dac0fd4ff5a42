import { canonicalJson, parseJson } from '@app/contracts/json';
import { MigrationInterface, QueryRunner } from 'typeorm';

// `data` is stored as the text Prefect returns. Floats used to be written as
// Python's repr (`1e-05`, `1e-07`); Prefect's responses print them as
// pydantic-core does (`0.00001`, `1e-7`). The two layouts differ only where
// repr writes an exponent of -5 to -9 (`e-05` .. `e-09`), so only rows whose
// text holds one are re-canonicalised (a match inside a string rewrites the
// row to the same text). metadata_ holds strings only.
const TABLES = ['artifact', 'artifact_collection'] as const;
const PAGE = 1000;

export class PydanticFloatText1700000000050 implements MigrationInterface {
  name = 'PydanticFloatText1700000000050';

  async up(runner: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const rows = (await runner.query(
          `SELECT id::text AS id, data::text AS data FROM ${table} WHERE id > $1::uuid AND data::text ~ 'e-0[5-9]' ORDER BY id LIMIT ${PAGE}`,
          [after],
        )) as { id: string; data: string }[];
        if (rows.length === 0) break;
        const changed = rows.map((r) => ({ id: r.id, data: canonicalJson(parseJson(r.data)) })).filter((r, i) => r.data !== rows[i]?.data);
        if (changed.length > 0) {
          await runner.query(
            `UPDATE ${table} t SET data = c.data::json FROM unnest($1::uuid[], $2::text[]) AS c(id, data) WHERE t.id = c.id`,
            [changed.map((r) => r.id), changed.map((r) => r.data)],
          );
        }
        after = rows[rows.length - 1]!.id;
      }
    }
  }

  async down(): Promise<void> {
    // The repr layout is not restored: both texts denote the same values.
  }
}
