import { MigrationInterface, QueryRunner } from 'typeorm';
import { runStateFunction } from './1700000000100-versions-by-run-state';

// Issue #18, found at 10M versions: the ingest stalled for minutes on one batch. The
// run-state tally's trigger (migration 100) was planned once per connection, like
// every static statement of a PL/pgSQL function, with the transition tables of that
// first call: a few rows, so a nested loop joining the updated rows' old and new
// images. Migration 130's copy of a run's deployment onto its versions updates every
// version of the batch's runs in one statement (100k versions and more), and the
// cached nested loop then compared every new row with every old one, re-reading the
// spilled transition table each time (seen with gdb: NamedTuplestoreScan under two
// ExecNestLoop, 6 minutes and more for one statement). The trigger's statements are
// now planned at each call (EXECUTE), with their transition tables' sizes: a hash
// join for a large statement, a nested loop for a small one.

/** One upsert of the trigger, planned per call: the claimed slot bound as $1. */
const perCall = (sql: string) => `EXECUTE $q$${sql.replace(/\bclaimed\b/g, '$1')}$q$ USING claimed;`;

export class TallyRunStatePerCall1700000000150 implements MigrationInterface {
  name = 'TallyRunStatePerCall1700000000150';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(runStateFunction(perCall));
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(runStateFunction());
  }
}
