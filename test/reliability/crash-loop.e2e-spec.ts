import { Load, sleep, waitForProgress, within, World } from './support/world';
import { prng, Workload } from './support/workload';
import { report } from './support/report';
import { FAULT_SCALE, sized } from './support/scale';

// Issue #6, crash loop: 200,000 events (all types, updates, deletes, duplicates) are
// produced over 6 partitions per topic while ingest processes are killed with SIGKILL
// 20 times, then one clean instance drains the topics. Nothing may be lost and
// nothing applied twice. That is the full size (FAULT_SCALE=full, `npm run soak`);
// CI runs 60,000 events and 2 rounds: 10 kills, each hook point hit at least once.
//
// Each round starts five instances in the group, waits until they consume, then
// kills all five: three at random moments (0-1.5 s into consumption, so mostly in
// the middle of a batch), two through the test hook at a fixed point of a batch
// (inside the transaction after the writes, between the checkpoint update and
// COMMIT, between COMMIT and the Kafka offset commit). Killing five per round
// shares the 10 s session timeout the group waits before it drops dead members.
// The load runs at a rate that outlasts the four rounds on a busy machine, so the
// kills come while events arrive; the last instance takes the rest.

const EVENTS = sized({ ci: 60_000, full: 200_000 });
const PARTITIONS = 6; // per topic
const ROUNDS = sized({ ci: 2, full: 4 });
const PER_ROUND = ['random', 'hook', 'random', 'hook', 'random'] as const;
const RATE = 2000; // events per second until EVENTS are produced
const POINTS = ['mid-transaction', 'before-commit', 'after-commit'] as const;

jest.setTimeout(600_000);

describe('reliability: kill -9 crash loop', () => {
  let world: World;

  beforeAll(async () => {
    world = await World.create('crash', { partitions: PARTITIONS });
  });

  afterAll(async () => {
    await world?.close();
  });

  test(`${ROUNDS * PER_ROUND.length} kill -9 under load, then the read model equals the oracle and every message was applied once`, async () => {
    const started = Date.now();
    const random = prng(6);
    const load = new Load(world, new Workload(6), RATE, EVENTS);
    const kills: string[] = [];
    let starts = 0;
    for (let round = 0; round < ROUNDS; round++) {
      let hooks = 0;
      const modes = PER_ROUND.map((kind) => (kind === 'random' ? 'random' : POINTS[(round * 2 + hooks++) % POINTS.length]!));
      const apps = await Promise.all(
        modes.map((mode) => world.startIngest(mode === 'random' ? {} : { INGEST_TEST_CRASH_POINT: `${mode}:${1 + Math.floor(random() * 3)}` })),
      );
      starts += apps.length;
      await waitForProgress(world, await world.progress(), undefined, 60_000);
      await Promise.all(
        apps.map(async (app, i) => {
          if (modes[i] === 'random') {
            await sleep(Math.floor(random() * 1500));
            const lag = await world.lag();
            await app.kill9();
            kills.push(`round ${round}: random kill -9, lag ${lag}, ${load.produced} produced`);
          } else {
            // The hook kills the process itself when a batch reaches the point (after the
            // group has dropped this round's dead members: up to one session timeout).
            const exit = await within(app.exited, 45_000, 'timeout');
            expect(exit).toBe('SIGKILL');
            expect(app.output()).toContain(`test hook: kill -9 at ${modes[i]}`);
            kills.push(`round ${round}: kill -9 at ${modes[i]}, ${load.produced} produced`);
          }
        }),
      );
    }
    await world.startIngest();
    starts++;
    await load.done;
    const produced = await load.stop();
    await world.waitDrained(180_000);
    const v = await world.verify();
    report('crash loop', { scale: FAULT_SCALE, events: v.messages, produced, partitions: PARTITIONS, seconds: Math.round((Date.now() - started) / 1000), kills: kills.length, restarts: starts, rows: v.rows, mismatches: v.mismatches, appliedMessages: v.appliedMessages }, kills);
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);
    expect(v.appliedMessages).toBe(v.messages);
    expect(v.poison).toBe(0);
    expect(produced).toBe(EVENTS);
    expect(kills).toHaveLength(ROUNDS * PER_ROUND.length);
  });
});
