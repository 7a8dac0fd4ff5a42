import { MigrationInterface, QueryRunner } from 'typeorm';

// Every version that becomes its key's latest rewrites the collection row, and such
// an update (latest_id and updated change) adds an entry to every index of the table.
// Two of them duplicate others: (type) is the prefix of (type, id DESC), and lookups
// by key use the unique index on key.
const up = `
DROP INDEX IF EXISTS ix_artifact_collection__type;
DROP INDEX IF EXISTS ix_artifact_collection__key_latest_id;
`;

export class FewerCollectionIndexes1700000000030 implements MigrationInterface {
  name = 'FewerCollectionIndexes1700000000030';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX ix_artifact_collection__type ON artifact_collection (type)');
    await runner.query('CREATE INDEX ix_artifact_collection__key_latest_id ON artifact_collection (key, latest_id)');
  }
}
