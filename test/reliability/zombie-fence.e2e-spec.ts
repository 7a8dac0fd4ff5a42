import { waitFor } from '../../infra/local/apps';
import { report } from './support/report';
import { Workload } from './support/workload';
import { countTotal, Load, sleep, waitForProgress, World } from './support/world';

// Issue #6, zombie fence: instance A is frozen (SIGSTOP) for longer than the
// consumer session timeout (10 s) while it holds a decoded batch in flight. The
// group gives A's partitions to B, which applies them and moves the checkpoints
// on. When A is thawed (SIGCONT) it carries on with its stale batch: the
// checkpoint compare-and-set must refuse it, and A rolls the batch back.
//
// A runs with INGEST_TEST_STALL_MS so that each of its batches waits, decoded and
// holding no lock, before its transaction: the freeze then always lands on a
// batch in flight (a random freeze would also land inside the short transaction,
// where PostgreSQL ends the frozen session instead; see RELIABILITY.md).

const STALL_MS = 4000;
const FROZEN_MS = 15_000;

jest.setTimeout(180_000);

describe('reliability: a frozen instance is fenced off when it wakes up', () => {
  let world: World;

  beforeAll(async () => {
    world = await World.create('zombie');
  });

  afterAll(async () => {
    await world?.close();
  });

  test('SIGSTOP past the session timeout with a batch in flight, SIGCONT: its batch fails the checkpoint compare-and-set and rolls back', async () => {
    const workload = new Workload(11);
    await world.send(workload.take(20_000));
    const load = new Load(world, workload, 1000);
    const b = await world.startIngest();
    await waitForProgress(world, 0n, b);

    const a = await world.startIngest({ INGEST_TEST_STALL_MS: String(STALL_MS), LOG_LEVEL: 'warn' });
    const stall = await waitFor(
      'instance A stalling with a batch in flight',
      async () => /test hook: stalling (\S+):(\d+) \[(\d+)\.\.(\d+)\]/.exec(a.output()) ?? undefined,
      60_000,
      20,
    );
    a.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    const [, topic, partition, first, last] = stall;
    const key = `${topic}:${partition}`;

    // B takes A's partitions once the coordinator drops A, and applies past A's batch.
    const overtaken = await waitFor(
      `B moving ${key} past A's batch [${first}..${last}]`,
      async () => {
        const next = (await world.checkpoints()).get(key)?.next ?? 0n;
        return next > BigInt(last!) ? next : undefined;
      },
      60_000,
      200,
    );
    await sleep(Math.max(0, FROZEN_MS - (Date.now() - frozenAt)));
    const frozenMs = Date.now() - frozenAt;
    a.child.kill('SIGCONT');

    const fenced = await waitFor('A fencing its stale batch', async () => ((await countTotal(a, 'fenced')) > 0 ? countTotal(a, 'fenced') : undefined), 60_000, 200);
    expect(a.child.exitCode).toBeNull();
    expect(a.output()).toContain('checkpoint moved by another instance; batch rolled back');

    const produced = await load.stop();
    await a.stop();
    await world.waitDrained();
    const v = await world.verify();
    report('zombie fence', { events: v.messages, produced, frozenMs, fencedBatches: fenced, overtakenTo: overtaken.toString(), rows: v.rows, mismatches: v.mismatches }, [
      `A froze holding ${key} [${first}..${last}]; B moved the checkpoint to ${overtaken}`,
    ]);
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);
  });
});
