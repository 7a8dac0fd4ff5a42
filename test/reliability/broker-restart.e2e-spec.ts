import { report } from './support/report';
import { Workload } from './support/workload';
import { countTotal, Load, sleep, waitForProgress, World } from './support/world';

// Issue #6, broker restart: the (private) Kafka broker is stopped (controlled
// shutdown), kept down, and started again on the same data and port, about 30 s
// without a broker in all, while events are produced and consumed.
// The ingest process must ride it out on its own (no restart), its lag must rise
// after the broker is back and fall to 0 again.

// From the end of the shutdown to the start; with both, the broker is away about 30 s.
const DOWN_MS = 25_000;

// A safety net, not a check: on busy shared cores the two broker restarts alone can take minutes.
jest.setTimeout(600_000);

describe('reliability: broker restart under load', () => {
  let world: World;

  beforeAll(async () => {
    world = await World.create('broker', { private: true });
  });

  afterAll(async () => {
    await world?.close();
  });

  test('Kafka down for 30 s: ingest recovers by itself, lag rises then returns to 0, the read model equals the oracle', async () => {
    const workload = new Workload(30);
    const load = new Load(world, workload, 800);
    const ingest = await world.startIngest();
    await waitForProgress(world, 0n, ingest);
    const pid = ingest.child.pid;
    await sleep(2000);

    const stoppingAt = Date.now();
    await world.own.stopKafka();
    const stoppedAt = Date.now();
    const stopMs = stoppedAt - stoppingAt;
    await sleep(5000);
    // Probes answer while the broker is still away (not after the client's retries end with
    // its return): the 503 below came back before startKafka. Its duration is only reported.
    const probeAt = Date.now();
    const readyWhileDown = (await fetch(`${ingest.url}/ready`)).status;
    const readyProbeMs = Date.now() - probeAt;
    await sleep(Math.max(0, DOWN_MS - (Date.now() - stoppedAt)));
    expect(ingest.child.exitCode).toBeNull();
    expect(readyWhileDown).toBe(503);
    const startingAt = Date.now();
    await world.own.startKafka();
    const startMs = Date.now() - startingAt;
    const downMs = Date.now() - stoppingAt;

    // Lag (high-water marks minus checkpoints) while the producer and the consumer come back.
    let maxLag = 0n;
    const lagAfter = async (): Promise<bigint> => {
      const lag = await world.lag();
      if (lag > maxLag) maxLag = lag;
      return lag;
    };
    const recoveredAt = Date.now();
    for (let i = 0; i < 20; i++) {
      await lagAfter().catch(() => 0n);
      await sleep(250);
    }
    const produced = await load.stop();
    await world.waitDrained(120_000);
    const recoveryMs = Date.now() - recoveredAt;
    expect(await lagAfter()).toBe(0n);
    expect(maxLag).toBeGreaterThan(0n);
    expect(ingest.child.exitCode).toBeNull();
    expect(ingest.child.pid).toBe(pid);
    expect((await fetch(`${ingest.url}/health`)).status).toBe(200);
    expect((await fetch(`${ingest.url}/ready`)).status).toBe(200);
    const retries = await countTotal(ingest, 'retries');

    const v = await world.verify();
    report('broker restart', { events: v.messages, produced, producerRetries: load.failures, downSeconds: Math.round(downMs / 1000), stopSeconds: Math.round(stopMs / 1000), startSeconds: Math.round(startMs / 1000), readyWhileDown, readyProbeMs, maxLagAfterRestart: maxLag.toString(), drainSeconds: Math.round(recoveryMs / 1000), batchRetries: retries, ingestRestarts: 0, rows: v.rows, mismatches: v.mismatches });
    expect(v.report).toBe('');
    expect(v.mismatches).toBe(0);
    expect(v.checkpointProblems).toEqual([]);
    expect(v.appliedProblems).toEqual([]);
    expect(v.appliedMessages).toBe(v.messages);
  });
});
