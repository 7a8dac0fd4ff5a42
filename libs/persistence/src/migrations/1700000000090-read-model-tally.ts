import { MigrationInterface, QueryRunner } from 'typeorm';
import { TALLIED_COLUMNS, TalliedTable } from '../tally';
import { rowCountFunction } from './1700000000010-query-read-side';

// Issue #18: an exact count walks every index entry it counts, so a count of one
// deployment's, flow's, state's or type's rows grew with them (at 1M versions with
// 10 clients: half the runs' collection rows 43-62 ms; at 10M, 450-560 ms).
// The tally keeps, per table, how many rows hold each value of a few columns
// (TALLIED_COLUMNS), in the writer's own transaction: statement-level triggers with
// transition tables, one upsert per statement. A value's count is spread over 16
// slots, and a transaction claims a slot no other running transaction holds (a
// transaction-level advisory lock), so concurrent writers never wait on each
// other's tally rows nor deadlock on them; a reader sums a value's slots. A count
// whose whole filter is one of these columns equal to one of given values reads
// the tally (artifact-statements.ts, countStatement). NULL values are not kept:
// no filter of that form matches them.

/** (column, value, sign) of each row of `rows`, its NULL values left out. */
const valuesOf = (table: TalliedTable, rows: string, sign: 1 | -1) =>
  `SELECT v.dimension, v.value, ${sign} AS n FROM ${rows} r CROSS JOIN LATERAL (VALUES ${TALLIED_COLUMNS[table]
    .map((c) => `('${c}', r.${c}::text)`)
    .join(', ')}) v(dimension, value) WHERE v.value IS NOT NULL`;

/** Adds the deltas of `deltas` (dimension, value, n) to the writer's slot (`claimed`), in key order so that writers lock rows in one order (also migration 100). */
export const addDeltas = (table: TalliedTable, deltas: string) => `INSERT INTO read_model_tally AS c (table_name, dimension, value, slot, n)
      SELECT '${table}', d.dimension, d.value, claimed, sum(d.n) FROM (${deltas}) d
      GROUP BY d.dimension, d.value HAVING sum(d.n) <> 0 ORDER BY d.dimension, d.value
      ON CONFLICT (table_name, dimension, value, slot) DO UPDATE SET n = c.n + excluded.n;`;

// The first key of the slots' advisory locks (two-int keys: apart from the one-bigint locks of the migrations, the run writers and the rebuild).
const TALLY_LOCK_SPACE = 727_311_090;

const branches = (Object.keys(TALLIED_COLUMNS) as TalliedTable[])
  .map(
    (table, i) => `  ${i === 0 ? 'IF' : 'ELSIF'} TG_TABLE_NAME = '${table}' THEN
    IF TG_OP = 'INSERT' THEN
      ${addDeltas(table, valuesOf(table, 'new_rows', 1))}
    ELSIF TG_OP = 'DELETE' THEN
      ${addDeltas(table, valuesOf(table, 'old_rows', -1))}
    ELSE
      ${addDeltas(table, `${valuesOf(table, 'new_rows', 1)} UNION ALL ${valuesOf(table, 'old_rows', -1)}`)}
    END IF;`,
  )
  .join('\n');

/** The four statement-level triggers `tg_<table>__<name>_*` of `fn` on `table`, with the transition tables `new_rows` and `old_rows` (also migration 100). */
export const tallyTriggers = (table: string, name: string, fn: string) => `CREATE TRIGGER tg_${table}__${name}_insert AFTER INSERT ON ${table}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();
CREATE TRIGGER tg_${table}__${name}_update AFTER UPDATE ON ${table}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();
CREATE TRIGGER tg_${table}__${name}_delete AFTER DELETE ON ${table}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();
CREATE TRIGGER tg_${table}__${name}_truncate AFTER TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();`;

const triggers = Object.keys(TALLIED_COLUMNS)
  .map((table) => tallyTriggers(table, 'tally', 'read_model_tally_add'))
  .join('\n');

const recounts = (Object.keys(TALLIED_COLUMNS) as TalliedTable[])
  .map(
    (table, i) => `  ${i === 0 ? 'IF' : 'ELSIF'} counted = '${table}' THEN
    INSERT INTO read_model_tally (table_name, dimension, value, slot, n)
    SELECT '${table}', d.dimension, d.value, 0, count(*) FROM (${valuesOf(table, `public.${table}`, 1)}) d GROUP BY d.dimension, d.value;`,
  )
  .join('\n');

const up = `
CREATE TABLE read_model_tally (
  table_name text NOT NULL,
  dimension  text NOT NULL,
  value      text COLLATE "C" NOT NULL,
  slot       integer NOT NULL,
  n          bigint NOT NULL,
  PRIMARY KEY (table_name, dimension, value, slot)
);

-- The slot of the calling transaction: the first of the 16, from its backend's own, that no
-- other running transaction holds; held until it ends. With all 16 held, it waits for its own.
CREATE FUNCTION read_model_tally_slot() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  own integer := pg_backend_pid() % 16;
BEGIN
  FOR i IN 0..15 LOOP
    IF pg_try_advisory_xact_lock(${TALLY_LOCK_SPACE}, (own + i) % 16) THEN
      RETURN (own + i) % 16;
    END IF;
  END LOOP;
  PERFORM pg_advisory_xact_lock(${TALLY_LOCK_SPACE}, own);
  RETURN own;
END
$$;

-- The row count of migration 010 took its backend's slot, shared by chance with another
-- writer's (two of 17 backends always): it now takes the claimed one as well.
${rowCountFunction('read_model_tally_slot()')}

CREATE FUNCTION read_model_tally_add() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  claimed integer;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM read_model_tally WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
  END IF;
  claimed := read_model_tally_slot();
${branches}
  END IF;
  RETURN NULL;
END
$$;

-- Counts a table's values afresh (the seed below; the rebuild, after its swap).
CREATE FUNCTION read_model_tally_recount(counted text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  DELETE FROM read_model_tally WHERE table_name = counted;
${recounts}
  END IF;
END
$$;

${triggers}

-- The triggers' locks keep writers out until this migration commits, so the seed is exact.
${Object.keys(TALLIED_COLUMNS)
  .map((table) => `SELECT read_model_tally_recount('${table}');`)
  .join('\n')}
`;

export class ReadModelTally1700000000090 implements MigrationInterface {
  name = 'ReadModelTally1700000000090';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(rowCountFunction('pg_backend_pid() % 16'));
    await runner.query('DROP FUNCTION read_model_tally_add() CASCADE');
    await runner.query('DROP FUNCTION read_model_tally_recount(text), read_model_tally_slot()');
    await runner.query('DROP TABLE read_model_tally');
  }
}
