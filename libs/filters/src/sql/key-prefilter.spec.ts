import { keyPrefilter } from './key-prefilter';

const pass = (key: Record<string, unknown>, operator: 'and_' | 'or_' = 'and_') =>
  keyPrefilter({ artifacts: { operator, key } as never }) ?? (() => 'no test');

describe('keyPrefilter: a necessary condition on the key alone', () => {
  test('any_ is exact and case-sensitive; an empty list rules everything out', () => {
    expect(pass({ any_: ['a', 'B'] })('a')).toBe(true);
    expect(pass({ any_: ['a', 'B'] })('b')).toBe(false);
    expect(pass({ any_: [] })('a')).toBe(false);
  });

  test("like_ reads as ILIKE '%like_%', with % and _ live", () => {
    const t = pass({ like_: 'P1-' });
    expect(['p1-7', 'xP1-', 'p1-'].map((k) => t(k))).toEqual([true, true, true]);
    expect(['p11-7', 'p1', 'p2-1'].map((k) => t(k))).toEqual([false, false, false]);
    expect(pass({ like_: 'a_c' })('xabcx')).toBe(true);
    expect(pass({ like_: 'a_c' })('ac')).toBe(false);
    expect(pass({ like_: 'a%c' })('a--c')).toBe(true);
    expect(pass({ like_: 'a.c' })('abc')).toBe(false);
    expect(pass({ like_: '(x' })('a(x')).toBe(true);
  });

  test('any_ and like_ must both hold', () => {
    expect(pass({ any_: ['p1-2', 'q'], like_: 'p1' })('p1-2')).toBe(true);
    expect(pass({ any_: ['p1-2', 'q'], like_: 'p1' })('q')).toBe(false);
  });

  test('leaves the database to decide what it cannot know', () => {
    expect(keyPrefilter({})).toBeUndefined();
    expect(keyPrefilter({ artifacts: { operator: 'and_', type: { any_: ['table'] } } as never })).toBeUndefined();
    expect(pass({ any_: ['a'] }, 'or_')('zzz')).toBe('no test');
    expect(pass({ like_: 'a\\_b' })('zzz')).toBe('no test');
    expect(pass({ like_: 'é' })('zzz')).toBe('no test');
    // A key beyond ASCII may fold to the pattern in the database's locale (K, the Kelvin sign, to k).
    expect(pass({ like_: 'k' })('\u212a')).toBe(true);
  });
});
