import { encodeConsistencyToken } from '@app/contracts';
import type { Sql } from '@app/persistence';
import { CONSISTENCY_HEADER, describeLag, lagging, parseConsistencyHeader, PinnableDatabase, ReadAfter } from './read-after';
import { PrefectHttpError } from './prefect-errors';

const token = (entries: [string, number, bigint][]) => {
  const map = new Map<string, Map<number, bigint>>();
  for (const [topic, partition, offset] of entries) map.set(topic, (map.get(topic) ?? new Map()).set(partition, offset));
  return map;
};

describe('read after a consistency token', () => {
  it('a partition is applied once its checkpoint (the next offset to read) is past the token offset', () => {
    const offsets = token([
      ['a', 0, 4n],
      ['a', 1, 9n],
      ['r', 0, 0n],
    ]);
    const checkpoints = new Map([
      ['a:0', 5n],
      ['a:1', 9n],
    ]);
    expect(lagging(offsets, checkpoints)).toEqual([
      { topic: 'a', partition: 1, offset: 9n, next: 9n },
      { topic: 'r', partition: 0, offset: 0n, next: null },
    ]);
    expect(lagging(offsets, new Map([...checkpoints, ['a:1', 10n], ['r:0', 1n]]))).toEqual([]);
  });

  it('says how far behind each partition is', () => {
    const detail = describeLag(
      [
        { topic: 'a', partition: 1, offset: 9n, next: 7n },
        { topic: 'r', partition: 0, offset: 0n, next: null },
      ],
      250,
    );
    expect(detail).toBe('The read model has not applied the consistency token within 250 ms: a/1: 3 behind (applied up to offset 6, token needs 9); r/0: nothing applied yet, token needs offset 0.');
  });

  it('reads the header: absent is nothing, a token of the consumed topics is its offsets', () => {
    expect(parseConsistencyHeader(undefined, ['a', 'r'])).toBeUndefined();
    expect(parseConsistencyHeader(encodeConsistencyToken(token([['a', 0, 1n]])), ['a', 'r'])).toEqual(token([['a', 0, 1n]]));
  });

  it.each([
    ['garbage', 'not a token!', /not base64url/],
    ['a topic not consumed here', encodeConsistencyToken(token([['elsewhere', 0, 1n]])), /names topic elsewhere, which this read model does not consume \(a, r\)/],
  ])('refuses %s with a 422 in the {detail} shape', (_, header, reason) => {
    let error: unknown;
    try {
      parseConsistencyHeader(header, ['a', 'r']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PrefectHttpError);
    expect((error as PrefectHttpError).status).toBe(422);
    const body = JSON.parse((error as PrefectHttpError).body) as { detail: string };
    expect(Object.keys(body)).toEqual(['detail']);
    expect(body.detail).toMatch(/^Invalid X-Consistency-Token header: /);
    expect(body.detail).toMatch(reason);
  });

  it('refuses the header given twice', () => {
    expect(() => parseConsistencyHeader(['x', 'y'], ['a'])).toThrow(PrefectHttpError);
  });
});

describe('ReadAfter.wait', () => {
  const options = { groupId: 'g', topics: ['a', 'r'], timeoutMs: 20 };
  /** One pool whose consumer_checkpoint rows are `rows`; counts the waits that reached it. */
  const database = (rows: { topic: string; partition: number; next_offset: string }[]) => {
    const seen = { waits: 0 };
    const sql: Sql = { query: async <Row>() => ({ rows: rows as Row[], rowCount: rows.length }) };
    const db: PinnableDatabase = {
      async pinnedRead(ready, read) {
        seen.waits++;
        await ready(sql);
        return read();
      },
    };
    return { db, seen };
  };
  const headers = (entries: [string, number, bigint][]) => ({ [CONSISTENCY_HEADER]: encodeConsistencyToken(token(entries)) });

  it('without the header returns at once, asking the database nothing', async () => {
    const { db, seen } = database([]);
    await new ReadAfter(db, options).wait({});
    expect(seen.waits).toBe(0);
  });

  it('returns once the checkpoints cover the token', async () => {
    const { db, seen } = database([{ topic: 'a', partition: 0, next_offset: '2' }]);
    await new ReadAfter(db, options).wait(headers([['a', 0, 1n]]));
    expect(seen.waits).toBe(1);
  });

  it('answers 504 with the lag when the checkpoints stay behind', async () => {
    const { db } = database([{ topic: 'a', partition: 0, next_offset: '1' }]);
    const error = await new ReadAfter(db, options).wait(headers([['a', 0, 1n]])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrefectHttpError);
    expect((error as PrefectHttpError).status).toBe(504);
    expect((error as PrefectHttpError).body).toContain('a/0: 1 behind');
  });

  it('refuses a malformed header with a 422 before any wait', async () => {
    const { db, seen } = database([]);
    const error = await new ReadAfter(db, options).wait({ [CONSISTENCY_HEADER]: 'not a token!' }).catch((e: unknown) => e);
    expect((error as PrefectHttpError).status).toBe(422);
    expect(seen.waits).toBe(0);
  });
});
