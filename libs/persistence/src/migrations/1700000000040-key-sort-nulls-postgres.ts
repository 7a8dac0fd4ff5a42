import { MigrationInterface, QueryRunner } from 'typeorm';

// KEY_ASC / KEY_DESC put keyless versions where Prefect on PostgreSQL does
// (PostgreSQL's default: NULLS LAST ascending, NULLS FIRST descending), no
// longer where Prefect on SQLite does. The index serving both sorts follows:
// read forwards for KEY_ASC (key, id), backwards for KEY_DESC.
const up = `
DROP INDEX IF EXISTS ix_artifact__key_asc_id;
CREATE INDEX ix_artifact__key_id ON artifact (key, id);
`;

export class KeySortNullsPostgres1700000000040 implements MigrationInterface {
  name = 'KeySortNullsPostgres1700000000040';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX IF EXISTS ix_artifact__key_id');
    await runner.query('CREATE INDEX ix_artifact__key_asc_id ON artifact (key ASC NULLS FIRST, id ASC)');
  }
}
