import type { AppProcess } from '../../infra/local/apps';
import { report } from './support/report';
import { prng, Workload } from './support/workload';
import { FAULT_SCALE, sized } from './support/scale';
import { Load, sleep, waitForProgress, World } from './support/world';

// Issue #6, rebalance churn: for two minutes of load, ingest instances of one group
// are started and stopped (SIGTERM, and now and then SIGKILL) every 2-4 s, two or
// three running at a time, so the group rebalances all the time and partitions
// move between instances mid-batch. Two minutes is the full size (FAULT_SCALE=full,
// `npm run soak`); CI churns for one (about 15 starts and stops).

const CHURN_MS = sized({ ci: 60_000, full: 120_000 });
const RATE = 1000;

jest.setTimeout(480_000);

describe('reliability: rebalance churn', () => {
  let world: World;

  beforeAll(async () => {
    world = await World.create('churn');
  });

  afterAll(async () => {
    await world?.close();
  });

  test('instances start and stop every few seconds under load; the read model equals the oracle', async () => {
    const t0 = Date.now();
    const random = prng(42);
    const load = new Load(world, new Workload(42), RATE);
    const running: AppProcess[] = [await world.startIngest(), await world.startIngest()];
    await waitForProgress(world, 0n, running[0]);
    const actions: Record<string, number> = { start: 2, sigterm: 0, sigkill: 0 };
    const started = Date.now();
    while (Date.now() - started < CHURN_MS) {
      await sleep(2000 + Math.floor(random() * 2000));
      if (running.length < 3) {
        running.push(await world.startIngest());
        actions.start!++;
      } else {
        const victim = running.splice(Math.floor(random() * running.length), 1)[0]!;
        if (random() < 0.85) {
          // Graceful: finishes or rolls back the batch in flight, leaves the group (exit code 0; past its own deadline the app exits 1).
          const exit = await victim.stop();
          expect(exit).toBe(0);
          actions.sigterm!++;
        } else {
          await victim.kill9();
          actions.sigkill!++;
        }
      }
    }
    const produced = await load.stop();
    await world.waitDrained(120_000);
    const v = await world.verify();
    report('rebalance churn', { scale: FAULT_SCALE, events: v.messages, produced, churnSeconds: CHURN_MS / 1000, seconds: Math.round((Date.now() - t0) / 1000), ...actions, rows: v.rows, mismatches: v.mismatches });
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);
    expect(v.appliedMessages).toBe(v.messages);
  });
});
