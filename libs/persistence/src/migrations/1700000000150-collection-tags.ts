import { MigrationInterface, QueryRunner } from 'typeorm';
import { MAX_INDEXED_TAG_BYTES } from '../collection-tags';

// Issue #18: a page of the latest versions filtered on a flow's tag walked the
// collection in id order and read each row to test its copy of the tag (migration
// 120): at 1M versions a tag on 7.5% of the rows read 2,700 rows for a page of 200
// (pgbench, one connection: 3.5-6.0 ms, against 0.7 ms for the unfiltered page).
// artifact_collection_tag holds one entry per (copy, tag, collection row), for the
// run's tags ('run') and its flow's tags ('flow'), so the page reads its ids in id
// order from one range of its primary key and then just the rows it returns
// (1.2-1.7 ms). Triggers keep it in the writer's own transaction, touching only the
// rows whose copy changed; a TRUNCATE of the collection empties it; the rebuild
// refills it after its swap, as it recounts the tally. A tag longer than
// MAX_INDEXED_TAG_BYTES has no entry (collection-tags.ts): a filter on such a tag
// reads the copies as before. Only a tag of less than a quarter of the rows is read
// from its entries (artifact-query.ts, tagEntries): a common one walks the collection.

/** The entries of the collection rows `rows` (`where` with `$tags` for each copy's column), long tags left out; an entry may come twice. */
const entriesOf = (rows: string, where = 'TRUE') => `SELECT e.source, e.tag, e.id FROM (
      SELECT 'flow' AS source, unnest(r.run_flow_tags) AS tag, r.id FROM ${rows} r WHERE ${where.replaceAll('$tags', 'run_flow_tags')}
      UNION ALL
      SELECT 'run', unnest(r.run_tags), r.id FROM ${rows} r WHERE ${where.replaceAll('$tags', 'run_tags')}
    ) e WHERE octet_length(e.tag) <= ${MAX_INDEXED_TAG_BYTES}`;

/** Rows `r` with no row of the same id and the same copy in `other` (a new row, a deleted one, a copy changed). */
const changed = (other: string) => `NOT EXISTS (SELECT 1 FROM ${other} x WHERE x.id = r.id AND x.$tags IS NOT DISTINCT FROM r.$tags)`;

const insert = (entries: string) => `INSERT INTO artifact_collection_tag (source, tag, id) ${entries} ON CONFLICT DO NOTHING;`;

// Each entry looked up by its key (LIMIT keeps the lookup a parameterised index scan per
// entry): a plain DELETE ... USING let the planner hash a scan of every entry per statement.
const remove = (entries: string) => `DELETE FROM artifact_collection_tag WHERE ctid = ANY(ARRAY(
      SELECT x.ctid FROM (${entries}) e
      CROSS JOIN LATERAL (SELECT g.ctid FROM artifact_collection_tag g WHERE g.source = e.source AND g.tag = e.tag AND g.id = e.id LIMIT 1) x));`;

// Statement-level triggers with transition tables, the rows whose copies did not change
// (most rewrites of a collection row) left out by a hashed anti-join. Two forms measured
// worse on the ingest of 1M versions (PostgreSQL CPU 242-250 s without the entries): one
// whose DELETE ... USING joined the entries by hashing a scan of them all per statement
// (523 s), and row-level triggers, one entry statement per changed row (380 s).
const up = `
CREATE TABLE artifact_collection_tag (
  source text COLLATE "C" NOT NULL CHECK (source IN ('flow', 'run')),
  tag    text COLLATE "C" NOT NULL,
  id     uuid NOT NULL,
  PRIMARY KEY (source, tag, id)
);

CREATE FUNCTION artifact_collection_tag_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE artifact_collection_tag;
  ELSIF TG_OP = 'INSERT' THEN
    ${insert(entriesOf('new_rows'))}
  ELSIF TG_OP = 'DELETE' THEN
    ${remove(entriesOf('old_rows'))}
  ELSE
    ${remove(entriesOf('old_rows', changed('new_rows')))}
    ${insert(entriesOf('new_rows', changed('old_rows')))}
  END IF;
  RETURN NULL;
END
$$;

-- Fills the entries afresh from the collection (the seed below; the rebuild, after its swap).
CREATE FUNCTION artifact_collection_tag_refill() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  DELETE FROM artifact_collection_tag;
  ${insert(entriesOf('public.artifact_collection'))}
END
$$;

CREATE TRIGGER tg_artifact_collection__tag_insert AFTER INSERT ON artifact_collection
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION artifact_collection_tag_sync();
CREATE TRIGGER tg_artifact_collection__tag_update AFTER UPDATE ON artifact_collection
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION artifact_collection_tag_sync();
CREATE TRIGGER tg_artifact_collection__tag_delete AFTER DELETE ON artifact_collection
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION artifact_collection_tag_sync();
CREATE TRIGGER tg_artifact_collection__tag_truncate AFTER TRUNCATE ON artifact_collection
  FOR EACH STATEMENT EXECUTE FUNCTION artifact_collection_tag_sync();

-- Writers wait at the collection's lock until this migration commits, so the seed is exact.
LOCK TABLE artifact_collection IN SHARE MODE;
SELECT artifact_collection_tag_refill();
ANALYZE artifact_collection_tag;
`;

export class CollectionTags1700000000150 implements MigrationInterface {
  name = 'CollectionTags1700000000150';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(up);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP FUNCTION artifact_collection_tag_sync() CASCADE');
    await runner.query('DROP FUNCTION artifact_collection_tag_refill()');
    await runner.query('DROP TABLE artifact_collection_tag');
  }
}
