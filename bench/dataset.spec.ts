import { SCALES, versionOf } from './dataset';

// The large scale's first block must be the full scale's data set, so that the growth from its
// 1M checkpoint to 10M compares the same shape; and the full scale keeps the mapping its earlier
// results (and Prefect's copy) were measured on: key n % 100k, run n % 20k, task run n % 100k.

describe('versionOf', () => {
  it('keeps the full scale on one block: key, run and task run in turn', () => {
    for (const n of [0, 1, 99_999, 100_000, 123_457, 999_999]) {
      expect(versionOf(SCALES.full, n)).toEqual({ key: n % 100_000, run: n % 20_000, taskRun: n % 100_000, version: Math.floor(n / 100_000) + 1 });
    }
  });

  it('gives the large scale the full data set in its first block', () => {
    for (const n of [0, 77, 99_999, 100_000, 654_321, 999_999]) expect(versionOf(SCALES.large, n)).toEqual(versionOf(SCALES.full, n));
  });

  it('gives each later block keys and runs of its own, ten versions a key', () => {
    expect(versionOf(SCALES.large, 1_000_000)).toEqual({ key: 100_000, run: 20_000, taskRun: 100_000, version: 1 });
    expect(versionOf(SCALES.large, 9_999_999)).toEqual({ key: 999_999, run: 199_999, taskRun: 999_999, version: 10 });
    const keys = new Set<number>();
    for (let n = 3_000_000; n < 4_000_000; n += 7) keys.add(versionOf(SCALES.large, n).key);
    expect(Math.min(...keys)).toBe(300_000);
    expect(Math.max(...keys)).toBe(399_999);
  });
});
