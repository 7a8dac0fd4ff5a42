import { MigrationInterface, QueryRunner } from 'typeorm';
import { TALLIED_RUN_STATE } from '../tally';
import { addDeltas, tallyTriggers } from './1700000000090-read-model-tally';

// Issue #18: counting the versions whose flow run is in a state walked every such
// version joined to its run (at 1M versions, 200k of them: 631 ms with 10 clients;
// at 10M, 2.1 s). The tally of migration 090 now also keeps, for `artifact`, how many
// versions have a flow run of each state type: the rows of `artifact JOIN flow_run`
// by `state_type`. Both sides change that join, so both carry triggers:
// - versions inserted or deleted count under their run's present state;
// - runs inserted or deleted bring or take all their versions; a run whose state
//   type changes moves its versions from the old type to the new one.
// A version and its run may be written by two transactions at once, each missing the
// other's uncommitted row: the ingest's writers of versions take the run lock shared,
// its writers of flow runs exclusive (libs/projections/src/batch.ts), so one of the two
// always sees the other's committed row. The slot and the upsert (addDeltas) are migration 090's.

const { table, dimension } = TALLIED_RUN_STATE;

/** (dimension, state type of its run, sign) of each version of `versions` whose run is known and has a state type. */
const versionsOf = (versions: string, sign: 1 | -1) =>
  `SELECT '${dimension}' AS dimension, fr.state_type AS value, ${sign} AS n FROM ${versions} r JOIN public.flow_run fr ON fr.id = r.flow_run_id WHERE fr.state_type IS NOT NULL`;

/** (dimension, state type of the run of `runs`, sign) of each version of these runs that have a state type, read from `runs`. */
const runVersionsOf = (runs: string, sign: 1 | -1) =>
  `SELECT '${dimension}' AS dimension, r.state_type AS value, ${sign} AS n FROM ${runs} r JOIN public.artifact a ON a.flow_run_id = r.id WHERE r.state_type IS NOT NULL`;

/**
 * The trigger's work for one table: `of` the inserted rows, of the deleted ones, and of the updated ones whose
 * `changed` column changed (old rows out, new rows in); each upsert as `statement` makes it (migration 150 plans each per call).
 */
export const branches = (of: (rows: string, sign: 1 | -1) => string, changed: string, statement: (sql: string) => string = (sql) => sql) => `IF TG_OP = 'INSERT' THEN
      ${statement(addDeltas(table, of('new_rows', 1)))}
    ELSIF TG_OP = 'DELETE' THEN
      ${statement(addDeltas(table, of('old_rows', -1)))}
    ELSE
      ${statement(
        addDeltas(
          table,
          `${of(`(SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.${changed} IS DISTINCT FROM n.${changed})`, 1)}
      UNION ALL ${of(`(SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE o.${changed} IS DISTINCT FROM n.${changed})`, -1)}`,
        ),
      )}
    END IF;`;

/** The trigger function: `statement` makes each of its upserts (migration 150 plans each per call). */
export const runStateFunction = (statement?: (sql: string) => string) => `
CREATE OR REPLACE FUNCTION read_model_tally_run_state() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  claimed integer;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM read_model_tally WHERE table_name = '${table}' AND dimension = '${dimension}';
    RETURN NULL;
  END IF;
  claimed := read_model_tally_slot();
  IF TG_TABLE_NAME = 'artifact' THEN
    ${branches(versionsOf, 'flow_run_id', statement)}
  ELSE
    ${branches(runVersionsOf, 'state_type', statement)}
  END IF;
  RETURN NULL;
END
$$;
`;

const up = `
${runStateFunction()}

${tallyTriggers('artifact', 'tally_run_state', 'read_model_tally_run_state')}
${tallyTriggers('flow_run', 'tally_run_state', 'read_model_tally_run_state')}

-- The recount of migration 090 (the rebuild calls it for each tallied table after its swap)
-- recounts the versions by run state as well.
ALTER FUNCTION read_model_tally_recount(text) RENAME TO read_model_tally_recount_columns;
CREATE FUNCTION read_model_tally_recount(counted text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  PERFORM read_model_tally_recount_columns(counted);
  IF counted = '${table}' THEN
    INSERT INTO read_model_tally (table_name, dimension, value, slot, n)
    SELECT '${table}', '${dimension}', fr.state_type, 0, count(*) FROM public.artifact a JOIN public.flow_run fr ON fr.id = a.flow_run_id
    WHERE fr.state_type IS NOT NULL GROUP BY fr.state_type;
  END IF;
END
$$;

-- The triggers' locks keep writers out until this migration commits, so the seed is exact.
SELECT read_model_tally_recount('${table}');
`;

export class VersionsByRunState1700000000100 implements MigrationInterface {
  name = 'VersionsByRunState1700000000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP FUNCTION read_model_tally_run_state() CASCADE');
    await runner.query('DROP FUNCTION read_model_tally_recount(text)');
    await runner.query('ALTER FUNCTION read_model_tally_recount_columns(text) RENAME TO read_model_tally_recount');
    await runner.query(`DELETE FROM read_model_tally WHERE table_name = '${table}' AND dimension = '${dimension}'`);
  }
}
