import { randomUUID } from 'node:crypto';
import { encodeEvent, EncodedMessage } from '@app/contracts';
import { AppProcess, waitFor } from '../../infra/local/apps';
import { count, ingestCounts, IngestFixture, ProducedMessage } from '../support/ingest-fixture';

jest.setTimeout(240_000);

// Issue #3: a crash (kill -9) or a stop (SIGTERM) in the middle of a large backlog.
// After either, the tables hold exactly the fold of the events below the stored
// checkpoints (writes and checkpoint commit together); after a restart they hold the
// fold of everything, and every event was applied once: the restarted process applies
// exactly the events above the checkpoints the dead one left.

const KEYS = 800;
const VERSIONS = 45;
const UPDATES = 8;
const DELETES = 5;
const KEYLESS = 2_000;
// 800 * (45 + 8 + 5) + 2000 = 48,400 events, ~20 MB.

const T = (seconds: number) => new Date(Date.UTC(2025, 0, 1) + seconds * 1000).toISOString();

/** A backlog where every event changes the read model once (distinct creates, newer updates, deletes of live versions). */
function backlog(): EncodedMessage[] {
  const perKey: EncodedMessage[][] = [];
  for (let k = 0; k < KEYS; k++) {
    const key = `crash-${k}-${randomUUID().slice(0, 6)}`;
    const ids = Array.from({ length: VERSIONS }, () => randomUUID());
    const events: EncodedMessage[] = [];
    // Versions produced out of `created` order, so the latest is not simply the last one.
    ids.forEach((id, v) => {
      const created = ((v * 17 + k) % VERSIONS) * 60;
      events.push(
        encodeEvent(
          'prefect.artifact.created',
          { id, key, type: 'table', description: `v${v}`, data: { rows: [v, k], note: 'x'.repeat(120) }, metadata_: { k: String(k), v: String(v) }, flow_run_id: randomUUID(), created: T(created) },
          { mode: v % 2 ? 'binary' : 'structured' },
        ),
      );
    });
    for (let u = 0; u < UPDATES; u++) {
      events.push(encodeEvent('prefect.artifact.updated', { id: ids[(u * 7 + k) % VERSIONS]!, key, updated: T(10_000 + u), description: `edited ${u}` }));
    }
    // Deletes hit the latest ones too (fallbacks) and never the same id twice.
    for (let d = 0; d < DELETES; d++) {
      events.push(encodeEvent('prefect.artifact.deleted', { id: ids[(d * 9 + k) % VERSIONS]!, key }, { time: T(20_000 + d) }));
    }
    perKey.push(events);
  }
  // Interleave the keys so every batch touches many of them.
  const out: EncodedMessage[] = [];
  for (let i = 0; i < VERSIONS + UPDATES + DELETES; i++) for (const events of perKey) out.push(events[i]!);
  for (let i = 0; i < KEYLESS; i++) out.push(encodeEvent('prefect.artifact.created', { id: randomUUID(), key: null, type: 'result', data: i, created: T(i) }));
  return out;
}

const sum = (m: Map<string, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n);

describe('ingest: crash and stop in the middle of a large backlog', () => {
  let world: IngestFixture;
  let total: number;

  beforeAll(async () => {
    world = await IngestFixture.create('crash', { partitions: 3 });
    const started = Date.now();
    const produced = await world.produce('artifacts', backlog());
    total = produced.length;
    expect(produced.every((p) => p.event !== undefined)).toBe(true);
    process.stderr.write(`crash spec: produced ${total} events in ${Date.now() - started} ms\n`);
  });

  afterAll(async () => {
    await world?.close();
  });

  /** The fold of the events below the stored checkpoints: what must be in the tables whenever no batch is in flight. */
  function prefixOracle(checkpoints: Map<string, bigint>) {
    return world.oracle((p: ProducedMessage) => BigInt(p.offset) < (checkpoints.get(`${p.topic}:${p.partition}`) ?? 0n));
  }

  /** Starts an instance and waits until its checkpoints moved past `from` (but have not reached the end). */
  async function startAndWaitForProgress(from: bigint): Promise<AppProcess> {
    const app = await world.start({}, false);
    await waitFor(
      'the checkpoints to move',
      async () => {
        if (app.child.exitCode !== null) throw new Error(`ingest exited: ${app.output()}`);
        const now = sum(await world.checkpoints());
        return now > from ? now : undefined;
      },
      120_000,
      10,
    );
    return app;
  }

  test('kill -9 mid-backlog, then SIGTERM mid-backlog: the tables always match the checkpoints; the restart completes the fold; nothing applied twice', async () => {
    // 1. kill -9 as soon as the first batch committed.
    const first = await startAndWaitForProgress(0n);
    await first.kill9();
    const afterKill = await world.checkpoints();
    const doneAtKill = sum(afterKill);
    process.stderr.write(`crash spec: killed at ${doneAtKill} of ${total}\n`);
    expect(doneAtKill).toBeGreaterThan(0n);
    expect(doneAtKill).toBeLessThan(BigInt(total));
    expect(await world.tables()).toEqual(prefixOracle(afterKill));

    // 2. Restart, and stop it with SIGTERM while it is still working through the backlog.
    const second = await startAndWaitForProgress(doneAtKill);
    // Exit code 0: the app stopped by itself, inside its own shutdown deadline (main.ts exits 1
    // past it; stop() sends SIGKILL only after a grace far beyond it), without draining the backlog.
    const code = await second.stop(60_000);
    const afterStop = await world.checkpoints();
    process.stderr.write(`crash spec: stopped at ${sum(afterStop)} of ${total}\n`);
    expect(code).toBe(0);
    expect(await world.tables()).toEqual(prefixOracle(afterStop));
    // The stopped instance's counters are gone with it; its checkpoints tell what it applied.
    const doneAtStop = sum(afterStop);
    expect(doneAtStop).toBeGreaterThan(doneAtKill);
    expect(doneAtStop).toBeLessThan(BigInt(total));

    // 3. Restart and let it finish.
    const third = await world.start();
    await world.caughtUp(third, 180_000);
    const end = await world.checkpoints();
    expect(end).toEqual(await world.highWatermarks().then((hw) => new Map([...hw].filter(([k]) => k.startsWith(world.topics.artifacts)))));
    expect(sum(end)).toBe(BigInt(total));
    expect(await world.tables()).toEqual(world.oracle());

    // Every event here changes the read model once, so the applied counter of the last
    // instance is exactly what was above the checkpoints when it started.
    const text = await ingestCounts(third);
    expect(count(text, 'applied')).toBe(Number(BigInt(total) - doneAtStop));
    expect(count(text, 'ignored')).toBe(0);
    expect(count(text, 'dead_lettered')).toBe(0);
  });
});
