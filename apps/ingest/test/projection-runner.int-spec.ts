import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import { dlqTopic, encodeEvent, EncodedMessage } from '@app/contracts';
import { DataSource, openDatabase } from '@app/persistence';
import { waitFor } from '../../../infra/local/apps';
import { count, IngestFixture, ProducedMessage } from '../../../test/support/ingest-fixture';
import { readAll, requireBrokers } from '../../../test/support/kafka';
import { IngestCounts, IngestMetrics } from '../src/ingest.metrics';
import { ConsumerHooks, KafkaAdapter } from '../src/kafka/kafka.adapter';
import { ProjectionRunner } from '../src/projection-runner';

// The ProjectionRunner itself, in this process, against the real Kafka broker and
// PostgreSQL of the test run: what the e2e specs see only through a spawned app and
// the oracle spec only as a model. One partition per topic, so that messages produced
// before the runner starts reach it as one batch.

jest.setTimeout(180_000);

const T = (seconds: number) => new Date(Date.UTC(2025, 0, 1) + seconds * 1000).toISOString();
const APP_NAME = 'runner-int-spec';

/** The real adapter without the seek to the stored checkpoint on assignment ("only a shortcut"), so that Kafka redelivers and the runner's own filter is what skips. */
class AdapterWithoutSeekShortcut extends KafkaAdapter {
  override startConsumer(groupId: string, topics: string[], hooks: ConsumerHooks, tuning?: Parameters<KafkaAdapter['startConsumer']>[3]): Promise<void> {
    return super.startConsumer(groupId, topics, { ...hooks, onAssigned: (assignment) => hooks.onAssigned(assignment, () => undefined) }, tuning);
  }
}

interface Running {
  runner: ProjectionRunner;
  metrics: IngestMetrics;
  /** The runner's counters, as GET /status gives them, for `count()`. */
  counts(): Promise<IngestCounts>;
  /** Its log lines at warn and above. */
  warnings: string[];
}

describe('ProjectionRunner against Kafka and PostgreSQL', () => {
  let world: IngestFixture;
  let dataSource: DataSource;
  const runners: ProjectionRunner[] = [];

  beforeEach(async () => {
    world = await IngestFixture.create('runner', { partitions: 1 });
    // A pool of its own, named, so that the fencing test can see the runner wait on a lock.
    dataSource = await openDatabase({ url: world.db.url, applicationName: APP_NAME, poolSize: 4 });
  });

  afterEach(async () => {
    await Promise.allSettled(runners.splice(0).map((r) => r.stop()));
    await dataSource?.destroy();
    await world?.close();
  });

  async function start(adapter: typeof KafkaAdapter = KafkaAdapter): Promise<Running> {
    const kafka = new adapter({ clientId: `runner-spec-${process.pid}`, brokers: requireBrokers(), security: { ssl: false } });
    await kafka.connect();
    const metrics = new IngestMetrics(world.topics);
    const warnings: string[] = [];
    const runner = new ProjectionRunner({
      dataSource,
      kafka,
      metrics,
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) }),
      groupId: world.groupId,
      artifactTopic: world.topics.artifacts,
      runTopic: world.topics.runs,
    });
    runners.push(runner);
    await runner.start([world.topics.artifacts, world.topics.runs]);
    return { runner, metrics, counts: () => metrics.counts(), warnings };
  }

  /** Until every partition holding messages has its checkpoint at the high-water mark. */
  async function caughtUp(): Promise<void> {
    await waitFor(
      'the stored checkpoints to reach the high-water marks',
      async () => {
        const [high, stored] = await Promise.all([world.highWatermarks(), world.checkpoints()]);
        return [...high].every(([k, h]) => h === 0n || stored.get(k) === h) ? true : undefined;
      },
      120_000,
      100,
    );
  }

  const artifact = (n: number): EncodedMessage => encodeEvent('prefect.artifact.created', { id: randomUUID(), key: `runner-${n % 3}`, type: 'markdown', data: `v${n}`, created: T(n) }, { key: 'runner' });
  const flowRun = (name: string): EncodedMessage => encodeEvent('prefect.flow-run.upserted', { id: randomUUID(), name, state_type: 'COMPLETED', created: T(0), updated: T(1) }, { key: 'runs' });

  test('dead letters: an undecodable message and an event PostgreSQL refuses go to <topic>.dlq; the rest of their batch is applied (isolation by savepoint)', async () => {
    // One batch on the runs topic: good, poison, good, refused (a btree index row too large), good.
    const refusedName = randomBytes(9_000).toString('base64'); // 12,000 characters that do not compress
    const produced = await world.produce('runs', [
      flowRun('before'),
      { key: 'runs', value: '{"specversion": "1.0", "id": ', headers: { 'content-type': 'application/cloudevents+json' } },
      flowRun('between'),
      flowRun(refusedName),
      flowRun('after'),
    ]);
    const [, poison, , refused] = produced as [ProducedMessage, ProducedMessage, ProducedMessage, ProducedMessage, ProducedMessage];
    const { counts } = await start();
    await caughtUp();

    // Everything but the refused event, in the oracle's tables; nothing rolled back with it.
    expect(await world.tables()).toEqual(world.oracle((p) => p !== refused));
    expect((await world.tables()).flow_run.map((r) => r.name).sort()).toEqual(['after', 'before', 'between']);
    expect(await world.checkpoints()).toEqual(new Map([[`${world.topics.runs}:0`, 5n]]));

    const dead = await readAll(world.kafka.kafka, world.kafka.admin, dlqTopic(world.topics.runs));
    expect(dead.map((m) => [m.headers['dlq-source-offset'], m.headers['dlq-reason']]).sort()).toEqual([
      [poison.offset, 'invalid_json'],
      [refused.offset, 'rejected_by_database'],
    ]);
    expect(dead.find((m) => m.headers['dlq-reason'] === 'rejected_by_database')!.value!.equals(refused.message.value)).toBe(true);
    const metrics = await counts();
    expect(count(metrics, 'dead_lettered', { reason: 'invalid_json' })).toBe(1);
    expect(count(metrics, 'dead_lettered', { reason: 'rejected_by_database' })).toBe(1);
    expect(count(metrics, 'applied', { type: 'prefect.flow-run.upserted' })).toBe(3);
  });

  test('redelivery: offsets reset to 0 and no seek on assignment, every message comes again and is skipped by the stored checkpoint', async () => {
    const first = await start();
    await world.produce('artifacts', Array.from({ length: 12 }, (_, n) => artifact(n)));
    await world.produce('runs', [flowRun('a'), flowRun('b')]);
    await caughtUp();
    const tables = await world.tables();
    const checkpoints = await world.checkpoints();
    expect(tables).toEqual(world.oracle());
    await first.runner.stop();
    for (const topic of Object.values(world.topics)) await world.kafka.admin.resetOffsets({ groupId: world.groupId, topic, earliest: true });

    const second = await start(AdapterWithoutSeekShortcut);
    // Until every message is accounted for, whichever way the runner took it.
    const handled = (c: IngestCounts) => (['redelivered', 'applied', 'ignored', 'dead_lettered'] as const).reduce((sum, name) => sum + count(c, name), 0);
    await waitFor('all 14 messages handled again', async () => (handled(await second.counts()) >= 14 ? true : undefined), 120_000, 100);
    const text = await second.counts();
    expect(count(text, 'consumed')).toBe(14);
    expect(count(text, 'redelivered')).toBe(14);
    // Skipped before planning: not applied, and not planned again as duplicates either.
    expect(count(text, 'applied')).toBe(0);
    expect(count(text, 'ignored')).toBe(0);
    expect(await world.tables()).toEqual(tables);
    expect(await world.checkpoints()).toEqual(checkpoints);

    // And it goes on from the checkpoint.
    await world.produce('artifacts', [artifact(99)]);
    await caughtUp();
    expect(count(await second.counts(), 'applied')).toBe(1);
    expect(await world.tables()).toEqual(world.oracle());
  });

  /** Until the runner's own connection waits for a checkpoint row lock in its transaction. */
  async function waitingForCheckpointRow(what: string): Promise<void> {
    const dbName = new URL(world.db.url).pathname.slice(1);
    await waitFor(
      what,
      async () => {
        // Not through the test's locking client: inside its transaction pg_stat_activity is a snapshot.
        const rows = (await world.db.dataSource.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND wait_event_type = 'Lock' AND query ILIKE '%consumer_checkpoint%FOR UPDATE%'`,
          [dbName, APP_NAME],
        )) as { n: number }[];
        return rows[0]!.n > 0 ? true : undefined;
      },
      30_000,
      20,
    );
  }

  /** The transactions that wrote the rows of these read-model tables (their xmin). */
  async function writers(tables = ['artifact', 'flow_run']): Promise<Set<string>> {
    const rows = (await world.db.dataSource.query(tables.map((t) => `SELECT xmin::text AS x FROM ${t}`).join(' UNION '))) as { x: string }[];
    return new Set(rows.map((r) => r.x));
  }

  test('batches handed over together (one fetch, both topics) share one transaction; each topic counts its own events', async () => {
    await world.produce('artifacts', Array.from({ length: 12 }, (_, n) => artifact(n)));
    await world.produce('runs', [flowRun('a'), flowRun('b')]);
    const { counts } = await start();
    await caughtUp();

    expect(await world.tables()).toEqual(world.oracle());
    expect((await writers()).size).toBe(1);
    const metrics = await counts();
    expect(count(metrics, 'applied', { topic: world.topics.artifacts })).toBe(12);
    expect(count(metrics, 'applied', { topic: world.topics.runs })).toBe(2);
    expect(await world.checkpoints()).toEqual(new Map([[`${world.topics.artifacts}:0`, 12n], [`${world.topics.runs}:0`, 2n]]));
  });

  test("a backlog's big batch takes a transaction of its own (transactions side by side), not the small batch's handed over with it", async () => {
    await world.produce('artifacts', Array.from({ length: 600 }, (_, n) => artifact(n)));
    await world.produce('runs', [flowRun('a'), flowRun('b')]);
    const { counts } = await start();
    await caughtUp();

    expect(await world.tables()).toEqual(world.oracle());
    const [artifactWriters, runWriters] = [await writers(['artifact']), await writers(['flow_run'])];
    expect([...artifactWriters].filter((x) => runWriters.has(x))).toEqual([]);
    expect(count(await counts(), 'applied', { topic: world.topics.artifacts })).toBe(600);
  });

  test('a shared transaction that one batch cannot commit (its checkpoint moved) leaves nothing; each batch is then applied on its own', async () => {
    const first = await start();
    await world.produce('artifacts', [artifact(0), artifact(1), artifact(2)]);
    await world.produce('runs', [flowRun('a')]);
    await caughtUp();
    await first.runner.stop();

    const other = new Client({ connectionString: world.db.url, application_name: 'runner-spec-other' });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM consumer_checkpoint WHERE group_id = $1 AND topic = $2 FOR UPDATE', [world.groupId, world.topics.artifacts]);
      const [e3, e4] = await world.produce('artifacts', [artifact(3), artifact(4), artifact(5)]);
      await world.produce('runs', [flowRun('b')]);
      const second = await start();
      await waitingForCheckpointRow("the runner's shared transaction waiting for the artifacts' checkpoint row");
      await other.query('UPDATE consumer_checkpoint SET next_offset = 5 WHERE group_id = $1 AND topic = $2', [world.groupId, world.topics.artifacts]);
      await other.query('COMMIT');
      await caughtUp();

      // The run event is applied (on its own), the artifacts from the moved checkpoint on: [3, 4] never.
      expect(await world.tables()).toEqual(world.oracle((p) => p !== e3 && p !== e4));
      expect((await world.tables()).flow_run.map((r) => r.name).sort()).toEqual(['a', 'b']);
      expect(await world.checkpoints()).toEqual(new Map([[`${world.topics.artifacts}:0`, 6n], [`${world.topics.runs}:0`, 2n]]));
      // Counted once, by the batches' own transactions: the rolled-back shared one counts nothing, and
      // resolves nothing to Kafka (the checkpoint audit never had to read a partition again).
      expect(second.warnings.filter((line) => line.includes('checkpoint behind'))).toEqual([]);
      const metrics = await second.counts();
      expect(count(metrics, 'applied', { topic: world.topics.artifacts })).toBe(1);
      expect(count(metrics, 'applied', { topic: world.topics.runs })).toBe(1);
      // Fenced as a batch on its own would be: counted, and sought to the moved checkpoint.
      expect(count(metrics, 'fenced', { topic: world.topics.artifacts })).toBe(1);
    } finally {
      await other.end();
    }
  });

  test('fencing: a batch whose checkpoint another instance moved meanwhile is rolled back whole, and the runner goes on from the moved checkpoint', async () => {
    const { counts } = await start();
    await world.produce('artifacts', [artifact(0), artifact(1), artifact(2)]);
    await caughtUp();
    const partition = `${world.topics.artifacts}:0`;
    expect((await world.checkpoints()).get(partition)).toBe(3n);

    // "Another instance": a transaction of the test's own that holds the checkpoint row.
    const other = new Client({ connectionString: world.db.url, application_name: 'runner-spec-other' });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM consumer_checkpoint WHERE group_id = $1 AND topic = $2 FOR UPDATE', [world.groupId, world.topics.artifacts]);
      // The runner reads checkpoint 3 (a plain read passes the row lock), then waits for the row in its transaction.
      const [e3, e4] = await world.produce('artifacts', [artifact(3), artifact(4), artifact(5)]);
      await waitingForCheckpointRow("the runner's batch transaction waiting for the checkpoint row");
      // It applied offsets 3 and 4 (their rows are its business) and moved the checkpoint past them.
      await other.query('UPDATE consumer_checkpoint SET next_offset = 5 WHERE group_id = $1 AND topic = $2', [world.groupId, world.topics.artifacts]);
      await other.query('COMMIT');
      await caughtUp();

      // The runner wrote none of its batch [3..5]; it sought to 5 and applied only that.
      expect(count(await counts(), 'fenced')).toBe(1);
      expect(await world.tables()).toEqual(world.oracle((p) => p !== e3 && p !== e4));
      expect((await world.checkpoints()).get(partition)).toBe(6n);
    } finally {
      await other.end();
    }
  });
});
