import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppProcess, freePort, spawnApp, waitFor, waitForStatus } from '../../infra/local/apps';
import { report } from './support/report';
import { Workload } from './support/workload';
import { countTotal, Load, sleep, waitForProgress, World } from './support/world';

// Issue #6, database faults, on a private PostgreSQL: (1) the ingest connection is
// killed with pg_terminate_backend in the middle of batch transactions, again and
// again; (2) the server is restarted under load. Each failed batch is rolled back
// and retried with backoff; the checkpoint, moved in the same transaction as the
// writes, never gets ahead of them. A second instance leaves the group while the
// server is down, so the first one is handed partitions it cannot look up: it must
// stay healthy. The query app answers /api/ready 503 while the server is down and
// 200 again after.

const TERMINATIONS = 10;
const DOWN_MS = 6000;
const QUERY_BUILT = existsSync(join(__dirname, '..', '..', 'dist', 'apps', 'query', 'main.js'));

jest.setTimeout(240_000);

describe('reliability: PostgreSQL faults under load', () => {
  let world: World;
  let query: AppProcess | undefined;

  beforeAll(async () => {
    world = await World.create('database', { private: true });
  });

  afterAll(async () => {
    await query?.stop();
    await world?.close();
  });

  test('backends terminated mid-transaction and a server restart: retried, nothing lost or doubled, the read model equals the oracle', async () => {
    const load = new Load(world, new Workload(50), 1000);
    const ingest = await world.startIngest();
    const second = await world.startIngest();
    await waitForProgress(world, 0n, ingest);
    if (QUERY_BUILT) {
      query = spawnApp('query', { DATABASE_URL: world.infra.databaseUrl, QUERY_PORT: String(await freePort()) });
      await waitForStatus(query, '/api/ready', 200);
    }

    // (1) Kill the ingest's backend inside a batch transaction that has already written (it holds a transaction id).
    const terminated: string[] = [];
    await waitFor(
      `${TERMINATIONS} ingest backends terminated mid-transaction`,
      async () => {
        const rows = await world.infra.admin<{ pid: number; state: string; query: string }>(
          `SELECT pid, state, left(query, 60) AS query, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
           WHERE application_name = 'artifact-ingest' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
           LIMIT 1`,
        );
        for (const r of rows) terminated.push(`${r.state}: ${r.query.replace(/\s+/g, ' ')}`);
        if (rows.length) await sleep(300 + Math.floor(Math.random() * 500));
        return terminated.length >= TERMINATIONS ? true : undefined;
      },
      // A poll must land inside a batch transaction: on a busy machine that takes longer.
      180_000,
      10,
    );
    expect(ingest.child.exitCode).toBeNull();

    // (2) Stop the server under load, keep it down, start it again on the same data and port.
    const before = await world.progress();
    await world.own.stopPostgres();
    const stoppedAt = Date.now();
    let readyWhileDown: number | undefined;
    if (query) {
      await sleep(1000);
      readyWhileDown = (await fetch(`${query.url}/api/ready`)).status;
    }
    // Its partitions move to the first instance now, whose checkpoint read on assignment fails.
    await second.stop();
    await sleep(Math.max(0, DOWN_MS - (Date.now() - stoppedAt)));
    expect(ingest.child.exitCode).toBeNull();
    await world.own.startPostgres();
    const downMs = Date.now() - stoppedAt;
    await waitForProgress(world, before, ingest, 60_000);
    if (query) await waitForStatus(query, '/api/ready', 200, 30_000);

    const produced = await load.stop();
    await world.waitDrained(120_000);
    const retries = await countTotal(ingest, 'retries');
    expect(retries).toBeGreaterThan(0);
    expect(ingest.child.exitCode).toBeNull();
    expect((await fetch(`${ingest.url}/health`)).status).toBe(200);
    const v = await world.verify();
    report(
      'database faults',
      { events: v.messages, produced, terminatedMidTransaction: terminated.length, serverRestarts: 1, downSeconds: Math.round(downMs / 1000), batchRetries: retries, queryReadyWhileDown: readyWhileDown ?? 'query app not built', rows: v.rows, mismatches: v.mismatches },
      terminated.slice(0, 5),
    );
    if (query) expect(readyWhileDown).toBe(503);
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);
    expect(v.appliedMessages).toBe(v.messages);
  });
});
