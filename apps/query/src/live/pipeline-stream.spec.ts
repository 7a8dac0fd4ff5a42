import type { PipelineStatus } from '../http/web-ui';
import type { ChangeFeed } from './change-feed';
import { PipelineBroadcast } from './pipeline-stream';

// The pipeline panel's broadcaster: the status at once, then one read per burst of
// commits (at most one a second, never a status read before the commit), a heartbeat,
// and nothing watched once the last panel has gone.

describe('PipelineBroadcast', () => {
  let now = 1_000_000;
  let commit: (() => void) | undefined;
  let watching = 0;
  const reads: number[] = [];
  const feed = {
    onCommit(watcher: () => void) {
      commit = watcher;
      watching++;
      return () => {
        commit = undefined;
        watching--;
      };
    },
  } as unknown as ChangeFeed;
  const status = async (notBefore: number) => {
    reads.push(notBefore);
    return { ingest_url: 'http://ingest', reachable: true, ingest: null, read_at: new Date(now).toISOString() } as PipelineStatus;
  };
  const flush = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };

  beforeEach(() => {
    jest.useFakeTimers();
    reads.length = 0;
  });
  afterEach(() => jest.useRealTimers());

  it('sends the status at once, after commits at most once a second, and on the heartbeat', async () => {
    const broadcast = new PipelineBroadcast(feed, status, { heartbeatMs: 15_000, now: () => now });
    const got: string[] = [];
    const remove = broadcast.add({ write: (text) => got.push(text) > 0, end: () => undefined });
    await flush();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(/^event: status\ndata: \{"ingest_url":"http:\/\/ingest"/);
    expect(watching).toBe(1);

    // A commit: a status read no older than the commit, sent to the panel.
    commit?.();
    jest.advanceTimersByTime(0);
    await flush();
    expect(reads.at(-1)).toBe(now);
    expect(got).toHaveLength(2);

    // A burst of commits within the second: one more read, a second after the last, covering the first of them.
    now += 200;
    const first = now;
    commit?.();
    now += 100;
    commit?.();
    commit?.();
    jest.advanceTimersByTime(500);
    await flush();
    expect(got).toHaveLength(2);
    now += 500;
    jest.advanceTimersByTime(500);
    await flush();
    expect(got).toHaveLength(3);
    expect(reads.at(-1)).toBe(first);

    // No commit: the heartbeat sends the status anyway.
    now += 15_000;
    jest.advanceTimersByTime(15_000);
    await flush();
    expect(got).toHaveLength(4);

    remove();
    expect(watching).toBe(0);
    commit?.();
    jest.advanceTimersByTime(60_000);
    await flush();
    expect(got).toHaveLength(4);
  });

  it('ends the open streams when closed', () => {
    const broadcast = new PipelineBroadcast(feed, status, { heartbeatMs: 15_000, now: () => now });
    let ended = 0;
    broadcast.add({ write: () => true, end: () => ended++ });
    broadcast.add({ write: () => true, end: () => ended++ });
    broadcast.close();
    expect(ended).toBe(2);
    expect(watching).toBe(0);
  });
});
