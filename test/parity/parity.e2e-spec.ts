import { DEVIATIONS } from './deviations';
import { Parity, ParityResult, send, startParity } from './support/harness';
import { failures } from './support/report';

// The differential test (parity issue): the real Prefect 3.6.24 server on PostgreSQL and
// our apps hold the same history and answer the same 1,000 seeded random requests.
// `npm run parity -- --requests N --seed S` runs more and prints the table.
describe('parity with the real Prefect server (differential, seeded)', () => {
  let parity: Parity;
  let result: ParityResult;

  beforeAll(async () => {
    parity = await startParity({ historySeed: 12, operations: 300, log: (line) => process.stderr.write(`[parity] ${line}\n`) });
    result = await parity.run(20261202, 1000, 3);
  }, 1_800_000);

  afterAll(async () => {
    await parity?.close();
  });

  test('the history reached both sides', () => {
    expect(result.history.liveVersions).toBeGreaterThan(100);
    expect(result.history.keys).toBeGreaterThan(20);
    // Most requests agree, and the run exercised answers of every kind on both sides.
    expect(result.agreed).toBeGreaterThan(result.requests / 2);
    const statuses = Object.keys(result.statuses).join('\n');
    for (const status of [' 200/', ' 404/', ' 405/', ' 422/']) expect(statuses).toContain(status);
  });

  test('no disagreement outside the deliberate deviations', () => {
    const problems = failures(result);
    if (problems.length > 0) throw new Error(`${problems.length} disagreement classes with Prefect 3.6.24:\n\n${problems.join('\n\n')}`);
  });

  test.each(DEVIATIONS.map((d) => [d.id, d] as const))('deliberate deviation %s: Prefect fails, ours answers as documented', async (_, deviation) => {
    const [prefect, ours] = await Promise.all([send(parity.prefect.url, deviation.probe), send(parity.queryUrl, deviation.probe)]);
    expect(prefect.status).toBeGreaterThanOrEqual(500);
    expect(deviation.matches(deviation.probe)).toBe(true);
    expect(deviation.checkOurs(ours)).toEqual([]);
  });
});
