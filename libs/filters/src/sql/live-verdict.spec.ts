import type { ArtifactQueryFilters } from './artifact-query';
import { candidates, liveRow, liveTest } from './live-verdict';

const RUN = '0b6c2bd4-93d6-4a8e-9c55-3a3a4a0f6c11';
const row = (key: string, type: string | null = 'table', flowRun: string | null = RUN) => liveRow(key, RUN, type, flowRun, null);
const compile = (filters: unknown) => liveTest(filters as ArtifactQueryFilters<'artifact_collection'>);
const verdict = (filters: unknown, r = row('p1-7')) => compile(filters).verdict(r);
const onKey = (key: Record<string, unknown>, k: string) => verdict({ artifacts: { operator: 'and_', key } }, row(k));

describe('liveTest: a filter decided on a changed row as the SQL decides it', () => {
  test('key any_ is exact and case-sensitive; an empty list matches nothing', () => {
    expect(onKey({ any_: ['a', 'B'] }, 'a')).toBe(true);
    expect(onKey({ any_: ['a', 'B'] }, 'b')).toBe(false);
    expect(onKey({ any_: [] }, 'a')).toBe(false);
  });

  test("like_ reads as ILIKE '%like_%' with % and _ live, folding ASCII letters only (the key column is COLLATE \"C\")", () => {
    expect(['p1-7', 'xP1-', 'p1-'].map((k) => onKey({ like_: 'P1-' }, k))).toEqual([true, true, true]);
    expect(['p11-7', 'p1', 'p2-1'].map((k) => onKey({ like_: 'p1-' }, k))).toEqual([false, false, false]);
    expect(onKey({ like_: 'a_c' }, 'xabcx')).toBe(true);
    expect(onKey({ like_: 'a_c' }, 'ac')).toBe(false);
    expect(onKey({ like_: 'a_c' }, 'a😀c')).toBe(true);
    expect(onKey({ like_: 'a%c' }, 'a--c')).toBe(true);
    expect(onKey({ like_: 'a.c' }, 'abc')).toBe(false);
    expect(onKey({ like_: '(x' }, 'a(x')).toBe(true);
    expect(onKey({ like_: 'k' }, '\u212a')).toBe(false);
    expect(onKey({ like_: 'é' }, 'É')).toBe(false);
    expect(onKey({ like_: '' }, 'zzz')).toBe(true);
  });

  test('exists_ on a collection key: true always holds, false never', () => {
    expect(onKey({ exists_: true }, 'a')).toBe(true);
    expect(onKey({ exists_: false }, 'a')).toBe(false);
  });

  test('type not_any_ excludes rows without a type; an empty list imposes nothing', () => {
    const type = (t: Record<string, unknown>, value: string | null) => verdict({ artifacts: { operator: 'and_', type: t } }, row('k', value));
    expect(type({ not_any_: ['table'] }, 'markdown')).toBe(true);
    expect(type({ not_any_: ['table'] }, 'table')).toBe(false);
    expect(type({ not_any_: ['table'] }, null)).toBe(false);
    expect(type({ not_any_: [] }, null)).toBe(true);
    expect(type({ any_: ['table'] }, null)).toBe(false);
  });

  test('or_ holds when one member does; an empty member or an empty or_ is TRUE', () => {
    const or = (members: Record<string, unknown>) => verdict({ artifacts: { operator: 'or_', ...members } });
    expect(or({ key: { any_: ['zzz'] }, type: { any_: ['table'] } })).toBe(true);
    expect(or({ key: { any_: ['zzz'] }, type: { any_: ['link'] } })).toBe(false);
    expect(or({ key: { any_: ['zzz'] }, flow_run_id: {} })).toBe(true);
    expect(or({})).toBe(true);
  });

  test('leaves the database what it cannot know', () => {
    expect(verdict({ flow_runs: {} })).toBeUndefined();
    expect(verdict({ artifacts: { operator: 'and_', key: { like_: 'p1' } }, task_runs: {} })).toBeUndefined();
    // A related filter cannot make a row match that the row's own filter rules out.
    expect(verdict({ artifacts: { operator: 'and_', key: { like_: 'q' } }, flows: {} })).toBe(false);
    expect(onKey({ like_: 'a\\_b' }, 'a_b')).toBeUndefined();
    expect(verdict({ artifacts: { operator: 'and_', flow_run_id: { any_: [RUN.toUpperCase()] } } })).toBeUndefined();
  });

  test('compares what PostgreSQL receives: a lone surrogate arrives as U+FFFD', () => {
    expect(onKey({ any_: ['\ud800'] }, '\uFFFD')).toBe(true);
    expect(onKey({ like_: '\ud800' }, 'a\uFFFD')).toBe(true);
  });

  test('needs: the longest literal run of a like_ under and_, which candidates looks up by its first three characters', () => {
    expect(compile({ artifacts: { operator: 'and_', key: { like_: 'P1-' } } }).needs).toBe('p1-');
    expect(compile({ artifacts: { operator: 'and_', key: { like_: 'ab%Cdef_g' } }, flows: {} }).needs).toBe('cdef');
    expect(compile({ artifacts: { operator: 'or_', key: { like_: 'abc' } } }).needs).toBeUndefined();
    expect(compile({ artifacts: { operator: 'and_', key: { like_: 'a\\bc' } } }).needs).toBeUndefined();
    const tests = [compile({ artifacts: { operator: 'and_', key: { like_: 'p1-' } } }), compile({ artifacts: { operator: 'and_', key: { like_: 'p2-' } } }), compile({})];
    expect([...candidates(tests)(row('xP1-7'))].sort()).toEqual([0, 2]);
    expect([...candidates(tests)(row('p3-1'))]).toEqual([2]);
  });
});
