import { spawnProcess } from './apps';

// The crash-loop spec asserts the line the ingest's test hook writes just before it kills
// itself. On a busy machine the exit could be seen before that line had come through the
// pipe (CI, 2026-12-03); with `exited` resolving on the exit alone, this spec missed 1 of
// its 240 lines.
describe('spawnProcess', () => {
  it('has all the output once the process has exited, also a line written just before a kill -9', async () => {
    const missing: string[] = [];
    for (let round = 0; round < 30; round++) {
      await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const last = `last words ${round}-${i}`;
          const script = `process.stdout.write('x'.repeat(200000)); process.stderr.write(${JSON.stringify(`${last}\n`)}); process.kill(process.pid, 'SIGKILL');`;
          const proc = spawnProcess(['-e', script], {});
          expect(await proc.exited).toBe('SIGKILL');
          if (!proc.output().includes(last)) missing.push(last);
        }),
      );
    }
    expect(missing).toEqual([]);
  }, 120_000);
});
