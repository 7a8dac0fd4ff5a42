import { MigrationInterface, QueryRunner } from 'typeorm';

// Durable tallies kept in the checkpoint row and moved by the same UPDATE that
// advances it, so they commit exactly when the batch does: `applied_messages`
// counts every message (event or dead letter) applied from the partition, once.
// With no retention gap it equals next_offset minus the partition's first
// offset; more means a message was applied twice, less that one was skipped.
const up = `
ALTER TABLE consumer_checkpoint
  ADD COLUMN applied_messages bigint NOT NULL DEFAULT 0,
  ADD COLUMN dead_lettered bigint NOT NULL DEFAULT 0;
`;

export class CheckpointCounters1700000000020 implements MigrationInterface {
  name = 'CheckpointCounters1700000000020';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE consumer_checkpoint DROP COLUMN applied_messages, DROP COLUMN dead_lettered');
  }
}
