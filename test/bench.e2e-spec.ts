import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Proves `npm run bench` still works end to end (small scale, short windows), Prefect's own
// server beside ours included. No speed is asserted: the figures live in bench/results and
// bench/README.md.
describe('npm run bench -- --scale small --peer prefect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('produces a results document with every figure', () => {
    const out = join(dir, 'results.json');
    const result = spawnSync('npm', ['run', '-s', 'bench', '--', '--scale', 'small', '--quick', '--peer', 'prefect', '--out', out], {
      cwd: join(__dirname, '..'),
      env: process.env,
      encoding: 'utf8',
      timeout: 1_200_000,
    });
    expect(result.stderr).not.toMatch(/^bench: /m);
    expect(result.status).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.scale).toBe('small');
    expect(doc.machine.cpus).toBeGreaterThan(0);
    expect(doc.ingest.events).toBe(16_000 + 3 * 1_000 + 2_000);
    for (const figure of [doc.ingest.events_per_second, doc.ingest.kafka_read_ceiling_events_per_second, doc.ingest.copy_ceiling.events_per_second]) {
      expect(figure).toBeGreaterThan(0);
    }
    expect(doc.ingest.copy_ceiling.rows).toBeGreaterThan(16_000);
    expect(doc.versions.postgresql).toMatch(/^\d+/);
    // The ingest process's CPU is always measured; the servers' only when the bench started them.
    for (const run of doc.ingest.runs) expect(run.cpu_seconds.ingest).toBeGreaterThan(0);
    expect(doc.queries).toHaveLength(2);
    for (const size of doc.queries) {
      expect(size.queries.map((q: { name: string }) => q.name)).toContain('ui_list');
      for (const q of size.queries) {
        expect(q.http.errors).toBe(0);
        expect(q.http.p50_ms).toBeGreaterThan(0);
        expect(q.db.p50_ms).toBeGreaterThan(0);
        expect(q.prepared.generic_plans + q.prepared.custom_plans).toBe(20);
        expect(q.selectivity.matched).toBeLessThanOrEqual(q.selectivity.of);
      }
    }
    const uiList = doc.queries[1].queries.find((q: { name: string }) => q.name === 'ui_list');
    expect(uiList.rows).toBe(200);
    expect(doc.freshness.samples).toBeGreaterThan(0);
    // A read carrying the send's consistency token sees the write (or a later one), or times out with 504.
    const ryw = doc.freshness.read_your_writes;
    expect(ryw.stale).toBe(0);
    expect(ryw.with_token.samples + ryw.timed_out).toBe(doc.freshness.events / 100);
    expect(ryw.with_token.samples).toBeGreaterThan(0);
    expect(doc.growth).toHaveLength(doc.queries[1].queries.length);
    // The deployment, flow and state probes target what owns 1/2, 1/5 and 1/20 of the runs.
    const share = (name: string) => doc.queries[1].queries.find((q: { name: string }) => q.name === name).selectivity.share;
    expect(share('deployment_1_2')).toBeGreaterThan(share('deployment_1_5'));
    expect(share('deployment_1_5')).toBeGreaterThan(share('deployment_1_20'));
    expect(share('deployment_1_20')).toBeGreaterThan(0);

    // Prefect held the same rows and answered every query of the mix with the same body.
    expect(doc.peer.name).toBe('prefect');
    expect(doc.peer.load.rows).toBeGreaterThan(16_000);
    expect(doc.peer.answers.comparisons.filter((c: { identical: boolean }) => !c.identical)).toEqual([]);
    expect(doc.peer.queries.map((q: { name: string }) => q.name)).toEqual(doc.queries[1].queries.map((q: { name: string }) => q.name));
    for (const q of doc.peer.queries) expect(q.prefect.errors).toBe(0);
    expect(doc.peer.queries.reduce((sum: number, q: { prefect: { rps: number } }) => sum + q.prefect.rps, 0)).toBeGreaterThan(0);
    expect(doc.peer.writes.prefect_post_artifacts_per_second).toBeGreaterThan(0);
    expect(doc.peer.writes.prefect_post_errors).toBe(0);
    expect(doc.peer.writes.ours_ingest_events_per_second).toBe(doc.ingest.events_per_second);
  }, 1_200_000);
});
