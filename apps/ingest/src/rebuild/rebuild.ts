import pino from 'pino';
import { createDataSource, DataSource, inTransaction, noteEverythingChanged, openDatabase, readCheckpoints, Sql, sqlOf, TALLIED_COLUMNS } from '@app/persistence';
import type { IngestConfig } from '../ingest.config';
import { IngestMetrics } from '../ingest.metrics';
import { KafkaAdapter } from '../kafka/kafka.adapter';
import { ProjectionRunner } from '../projection-runner';

// npm run rebuild: replays both topics from offset 0 into fresh copies of the
// read-model tables in a shadow schema, with the ingest's own projection runner
// (search_path = shadow, public), while the live ingest and the query app go on.
// Once the shadow has caught up with the live checkpoints it swaps the tables in,
// in one transaction that holds the checkpoint table (so no live batch commits
// meanwhile), moves the live tables out and the shadow ones in, and hands the
// live group the shadow's checkpoints. Queries keep answering: they wait for the
// swap's locks for a moment and then read the new tables.

/** The tables a replay rebuilds; consumer_checkpoint and schema_migration stay where they are. */
export const READ_MODEL_TABLES = ['artifact', 'artifact_collection', 'flow', 'deployment', 'flow_run', 'task_run', 'tombstone'] as const;

const SHADOW = 'rebuild_shadow';
const RETIRED = 'rebuild_retired';
// Held for the whole run: two rebuilds must not share the shadow schema.
const REBUILD_LOCK_ID = 727_311_002;

export interface RebuildOptions {
  /** Keep the replaced tables in schema rebuild_retired (default: dropped). */
  keepOld?: boolean;
  /** Swap once at most this many messages are left to replay (default 2000); the rest is replayed while the checkpoints are held. */
  swapLag?: number;
  /** Replay even when a partition's log no longer starts at offset 0 (the result then lacks the deleted events). */
  allowTruncatedLog?: boolean;
  progress?: (line: string) => void;
}

export interface RebuildResult {
  messages: number;
  seconds: number;
  /** How long the live checkpoints were held (the live ingest paused). */
  swapMillis: number;
  rows: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const q = (sql: Sql, text: string, values: unknown[] = []) => sql.query<Record<string, unknown>>({ text, values });

export async function rebuild(config: IngestConfig, options: RebuildOptions = {}): Promise<RebuildResult> {
  const say = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const topics = [config.artifactTopic, config.runTopic];
  const admin = await openDatabase({ url: config.databaseUrl, applicationName: 'artifact-rebuild', poolSize: 3 });
  const lockRunner = admin.createQueryRunner();
  // The replay's consumer is disconnected at the swap; offsets and clean-up go through another client.
  const kafka = new KafkaAdapter({ clientId: 'artifact-rebuild', brokers: config.brokers, security: config.kafkaSecurity });
  const replayKafka = new KafkaAdapter({ clientId: 'artifact-rebuild-replay', brokers: config.brokers, security: config.kafkaSecurity });
  let shadow: DataSource | undefined;
  let runner: ProjectionRunner | undefined;
  const replayGroup = `${config.groupId}.rebuild.${Date.now()}`;
  try {
    await lockRunner.connect();
    const [locked] = (await lockRunner.query('SELECT pg_try_advisory_lock($1) AS ok', [REBUILD_LOCK_ID])) as { ok: boolean }[];
    if (!locked?.ok) throw new Error('another rebuild is running on this database');
    await Promise.all([kafka.connect(), replayKafka.connect()]);
    const offsets = await kafka.partitionOffsets(topics);
    const truncated = offsets.filter((p) => p.low > 0n);
    if (truncated.length && !options.allowTruncatedLog) {
      throw new Error(
        `the log no longer starts at offset 0 in ${truncated.map((p) => `${p.topic}:${p.partition} (${p.low})`).join(', ')}: a replay would lose those events (--allow-truncated-log to do it anyway)`,
      );
    }
    await createShadowTables(sqlOf(admin));
    say(`rebuild: shadow tables ready in schema ${SHADOW}; replaying ${topics.join(', ')} from offset 0`);

    shadow = createDataSource({ url: config.databaseUrl, applicationName: 'artifact-rebuild', poolSize: 4, searchPath: [SHADOW, 'public'] });
    await shadow.initialize();
    const logger = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
    runner = new ProjectionRunner({
      dataSource: shadow,
      kafka: replayKafka,
      metrics: new IngestMetrics(),
      logger,
      groupId: replayGroup,
      artifactTopic: config.artifactTopic,
      runTopic: config.runTopic,
      publishDeadLetters: false,
    });
    await runner.start(topics);

    const swapLag = BigInt(options.swapLag ?? 2000);
    let last = { at: Date.now(), done: 0n };
    for (;;) {
      const [highs, replayed, live] = await Promise.all([kafka.partitionOffsets(topics), readCheckpoints(sqlOf(shadow), replayGroup), readCheckpoints(sqlOf(admin), config.groupId)]);
      let total = 0n;
      let done = 0n;
      let behindLive = false;
      for (const p of highs) {
        const key = `${p.topic}:${p.partition}`;
        const position = replayed.get(key) ?? p.low;
        total += p.high - p.low;
        done += position - p.low;
        if (position < (live.get(key) ?? 0n)) behindLive = true;
      }
      const now = Date.now();
      const rate = Number(done - last.done) / Math.max(0.001, (now - last.at) / 1000);
      last = { at: now, done };
      say(`rebuild: ${done} / ${total} messages replayed (${total ? ((Number(done) / Number(total)) * 100).toFixed(1) : '100.0'}%), ${Math.round(rate)}/s`);
      if (!behindLive && total - done <= swapLag) break;
      await sleep(1000);
    }

    for (const table of READ_MODEL_TABLES) await q(sqlOf(shadow), `ANALYZE ${SHADOW}.${table}`);
    say('rebuild: caught up with the live ingest; swapping the tables in');
    const swap = await swapIn(admin, shadow, runner, config.groupId, replayGroup, say);
    runner = undefined;

    if (!options.keepOld) await q(sqlOf(admin), `DROP SCHEMA ${RETIRED} CASCADE`);
    await q(sqlOf(admin), `DROP SCHEMA ${SHADOW} CASCADE`);
    await kafka.deleteGroup(replayGroup).catch(() => undefined);
    const rows: Record<string, number> = {};
    for (const table of READ_MODEL_TABLES) rows[table] = Number((await q(sqlOf(admin), `SELECT count(*) AS n FROM public.${table}`)).rows[0]?.n);
    return { messages: swap.messages, seconds: Math.round((Date.now() - started) / 100) / 10, swapMillis: swap.millis, rows };
  } finally {
    await runner?.stop().catch(() => undefined);
    await Promise.all([kafka.disconnect(), replayKafka.disconnect()]);
    await shadow?.destroy().catch(() => undefined);
    await lockRunner.release().catch(() => undefined);
    await admin.destroy().catch(() => undefined);
  }
}

/**
 * Empty copies of the read-model tables in the shadow schema, with the same
 * columns, constraints and indexes (and their names), read from the catalog so
 * that whatever later migrations add is copied too. Triggers are added at the
 * swap: the row-count ones write to public.read_model_row_count.
 */
async function createShadowTables(sql: Sql): Promise<void> {
  const views = await q(
    sql,
    `SELECT DISTINCT v.relname FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
     JOIN pg_class t ON t.oid = d.refobjid WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1) AND v.oid <> t.oid`,
    [[...READ_MODEL_TABLES]],
  );
  if (views.rows.length) throw new Error(`views depend on the read-model tables (${views.rows.map((r) => r.relname).join(', ')}): the swap would leave them on the old tables`);
  await q(sql, `DROP SCHEMA IF EXISTS ${SHADOW} CASCADE`);
  await q(sql, `CREATE SCHEMA ${SHADOW}`);
  for (const table of [...READ_MODEL_TABLES, 'consumer_checkpoint']) {
    await q(sql, `CREATE TABLE ${SHADOW}.${table} (LIKE public.${table} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS)`);
    const constraints = await q(
      sql,
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'c', 'x') ORDER BY conname`,
      [`public.${table}`],
    );
    for (const c of constraints.rows) await q(sql, `ALTER TABLE ${SHADOW}.${table} ADD CONSTRAINT ${quoteIdent(String(c.conname))} ${String(c.def)}`);
    const indexes = await q(
      sql,
      `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i WHERE i.indrelid = $1::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY i.indexrelid`,
      [`public.${table}`],
    );
    for (const i of indexes.rows) await q(sql, retarget(String(i.def), 'public', SHADOW, table));
  }
}

/** `... ON [public.]table ...` of a catalog definition, pointed at the same table in another schema. */
function retarget(definition: string, from: string, to: string, table: string): string {
  const pattern = new RegExp(` ON (?:ONLY )?(?:${from}\\.)?${table} `);
  if (!pattern.test(definition)) throw new Error(`cannot retarget definition to ${to}.${table}: ${definition}`);
  return definition.replace(pattern, ` ON ${to}.${table} `);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The atomic swap. Holding consumer_checkpoint in EXCLUSIVE mode stops every live
 * batch at its checkpoint lock (plain reads, such as /ready, go on); the replay
 * finishes up to at least the live checkpoints it now sees, stops, and the tables
 * trade places. The live ingest's waiting batches then find a checkpoint other
 * than the one they started from: they are fenced and continue from the new one.
 */
async function swapIn(
  admin: DataSource,
  shadow: DataSource,
  runner: ProjectionRunner,
  liveGroup: string,
  replayGroup: string,
  say: (line: string) => void,
): Promise<{ messages: number; millis: number }> {
  let held = 0;
  const result = await inTransaction(admin, async (sql) => {
    await q(sql, "SELECT set_config('lock_timeout', '60s', true)");
    await q(sql, 'LOCK TABLE consumer_checkpoint IN EXCLUSIVE MODE');
    held = Date.now();
    const live = await readCheckpoints(sql, liveGroup);
    for (let waited = 0; ; waited += 100) {
      const replayed = await readCheckpoints(sqlOf(shadow), replayGroup);
      const behind = [...live].filter(([key, offset]) => (replayed.get(key) ?? 0n) < offset);
      if (behind.length === 0) break;
      if (waited > 60_000) throw new Error(`the replay did not reach the live checkpoints of ${behind.map(([k]) => k).join(', ')} within 60 s`);
      await sleep(100);
    }
    await runner.stop();
    await q(sql, `CREATE SCHEMA ${RETIRED}`);
    for (const table of READ_MODEL_TABLES) {
      const grants = await q(
        sql,
        `SELECT grantee, string_agg(privilege_type, ', ') AS privileges FROM information_schema.role_table_grants
         WHERE table_schema = 'public' AND table_name = $1 AND grantee <> current_user GROUP BY grantee`,
        [table],
      );
      await q(sql, `ALTER TABLE public.${table} SET SCHEMA ${RETIRED}`);
      await q(sql, `ALTER TABLE ${SHADOW}.${table} SET SCHEMA public`);
      const triggers = await q(sql, `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal ORDER BY tgname`, [`${RETIRED}.${table}`]);
      for (const t of triggers.rows) await q(sql, retarget(String(t.def), RETIRED, 'public', table));
      for (const g of grants.rows) await q(sql, `GRANT ${String(g.privileges)} ON public.${table} TO ${g.grantee === 'PUBLIC' ? 'PUBLIC' : quoteIdent(String(g.grantee))}`);
    }
    // Derived counters the row-count triggers keep (query side), recounted for the new tables.
    const counted = await q(sql, "SELECT to_regclass('public.read_model_row_count') IS NOT NULL AS present");
    if (counted.rows[0]?.present) {
      await q(sql, 'DELETE FROM read_model_row_count WHERE table_name = ANY($1)', [[...READ_MODEL_TABLES]]);
      const names = (await q(sql, `SELECT DISTINCT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_proc p ON p.oid = g.tgfoid
        WHERE c.relnamespace = 'public'::regnamespace AND p.proname = 'read_model_row_count_add'`)).rows.map((r) => String(r.relname));
      for (const name of names) await q(sql, `INSERT INTO read_model_row_count (table_name, slot, n) SELECT $1, 0, count(*) FROM public.${name}`, [name]);
    }
    // The tally of their values (migration 1700000000090), likewise counted afresh.
    if ((await q(sql, "SELECT to_regprocedure('public.read_model_tally_recount(text)') IS NOT NULL AS present")).rows[0]?.present) {
      for (const table of Object.keys(TALLIED_COLUMNS)) await q(sql, 'SELECT public.read_model_tally_recount($1)', [table]);
    }
    // Live subscriptions cannot follow a swap key by key: they are sent a new snapshot.
    if ((await q(sql, "SELECT to_regclass('public.collection_change') IS NOT NULL AS present")).rows[0]?.present) await noteEverythingChanged(sql);
    await q(sql, 'DELETE FROM consumer_checkpoint WHERE group_id = $1', [liveGroup]);
    const moved = await q(
      sql,
      `INSERT INTO consumer_checkpoint (group_id, topic, partition, next_offset, applied_messages, dead_lettered)
       SELECT $1, topic, partition, next_offset, applied_messages, dead_lettered FROM ${SHADOW}.consumer_checkpoint WHERE group_id = $2
       RETURNING applied_messages`,
      [liveGroup, replayGroup],
    );
    return { messages: moved.rows.reduce((sum, r) => sum + Number(r.applied_messages), 0) };
  });
  const millis = Date.now() - held;
  say(`rebuild: swapped; the live checkpoints were held for ${millis} ms`);
  return { ...result, millis };
}
