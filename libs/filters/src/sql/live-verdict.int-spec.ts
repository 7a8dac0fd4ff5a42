import fc from 'fast-check';
import { createTestDatabase, TestDatabase } from '../../../../test/support/database';
import { ReadLatestArtifactsBody } from '../schemas/bodies';
import type { ArtifactQueryFilters } from './artifact-query';
import { liveMatchesStatement, liveRowsStatement } from './artifact-statements';
import { candidates, LiveRow, liveRow, liveTest } from './live-verdict';

// The app's verdict against PostgreSQL's for the same filter through the SQL compiler
// (liveMatchesStatement, what the feed asks the database), on random rows of the real
// artifact_collection table: every verdict the app gives is the database's. Strings mix
// case variants, non-ASCII letters that Unicode folds (É/é, the Kelvin sign, ß/ẞ, İ),
// wildcards, a backslash, a lone surrogate, NUL and an astral character.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('live_verdict');
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

const UNITS = ['a', 'A', 'b', 'B', 'k', 'K', '\u212a', 'é', 'É', 'ß', 'ẞ', 'İ', 'i', 'I', 'ı', 'p', '1', '-', '.', '(', '%', '_', ' ', '\n', '\\', '\uFFFD', '😀'];
const text = (maxLength: number, extra: string[] = []) => fc.string({ unit: fc.constantFrom(...UNITS, ...extra), maxLength });
const UUIDS = ['0b6c2bd4-93d6-4a8e-9c55-3a3a4a0f6c11', '5f1d2c3b-0000-4000-8000-00000000000a', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee'];
const TYPES = ['table', 'Table', 'markdown', 'é', 'É', 'k'];
const SEED = Date.now();
// Beside the random ones: keys and patterns where one character is two UTF-16 units, or folds only in Unicode.
const KEYS = ['😀', 'a😀b', '\u212a', 'É', 'ẞ', '\uFFFD', 'İ', 'P1-7', 'a\\b', 'a_b'];
const LIKES = ['__', 'a_b', '_😀', 'k', 'é', 'ss', 'i', '\\', '\\_', '%', '\ud800'];

interface Row {
  key: string;
  latest_id: string;
  type: string | null;
  flow_run_id: string | null;
  task_run_id: string | null;
}

const rowArb = fc.record({
  key: text(6),
  latest_id: fc.constantFrom(...UUIDS),
  type: fc.option(fc.constantFrom(...TYPES), { nil: null }),
  flow_run_id: fc.option(fc.constantFrom(...UUIDS), { nil: null }),
  task_run_id: fc.option(fc.constantFrom(...UUIDS), { nil: null }),
});

/** A filter body as a client sends it: ids in any case, nulls, empty lists, related filters that only the database decides. */
function bodyArb(keys: string[]) {
  const absent = <T>(a: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: a });
  const list = <T>(a: fc.Arbitrary<T>) => fc.array(a, { maxLength: 3 });
  const uuid = fc.constantFrom(...UUIDS).chain((id) => fc.constantFrom(id, id.toUpperCase(), id.replaceAll('-', '')));
  // A stored key as a client might spell it: in upper case, with U+FFFD as a lone surrogate, a character as `_`.
  const variant = fc.tuple(fc.constantFrom(...keys), fc.nat(5)).chain(([k, at]) =>
    fc.constantFrom(k, k.toUpperCase(), k.replaceAll('\uFFFD', '\ud800'), [...k].map((c, i) => (i === at ? '_' : c)).join('')),
  );
  const key = fc.oneof(variant, text(4, ['\ud800', '\0']));
  const type = fc.oneof(fc.constantFrom(...TYPES), text(3, ['\0']));
  const like = fc.oneof(text(3, ['\ud800', '\0']), fc.constantFrom(...LIKES), fc.tuple(variant, fc.nat(2)).map(([k, from]) => [...k].slice(from, from + 3).join('')));
  const opt = { requiredKeys: [] as never[] };
  const ids = absent(fc.record({ any_: absent(list(uuid)) }, opt));
  const artifacts = fc.record(
    {
      operator: fc.constantFrom('and_', 'and_', 'or_'),
      latest_id: ids,
      key: absent(fc.record({ any_: absent(list(key)), like_: absent(like), exists_: absent(fc.boolean()) }, opt)),
      flow_run_id: ids,
      task_run_id: ids,
      type: absent(fc.record({ any_: absent(list(type)), not_any_: absent(list(type)) }, opt)),
    },
    opt,
  );
  const related = fc.oneof(
    { weight: 4, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: fc.constantFrom<object>({ flow_runs: {} }, { task_runs: {} }, { flows: {} }, { deployments: { operator: 'or_' } }) },
  );
  return fc.tuple(fc.option(artifacts, { nil: undefined, freq: 10 }), related).map(([a, r]) => ({ ...(a === undefined ? {} : { artifacts: a }), ...r }));
}

it('agrees with PostgreSQL on every row it decides, for random filters and rows', async () => {
  const seen = new Set<string>();
  const sampled = fc.sample(rowArb, { numRuns: 80, seed: SEED });
  const rows = [...sampled.slice(0, KEYS.length).map((r, i) => ({ ...r, key: KEYS[i] as string })), ...sampled].filter((r) => !seen.has(r.key) && seen.add(r.key));
  await db.dataSource.query(
    `INSERT INTO artifact_collection (id, created, updated, key, latest_id, type, flow_run_id, task_run_id)
     SELECT gen_random_uuid(), now(), now(), r.* FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[]) AS r`,
    (['key', 'latest_id', 'type', 'flow_run_id', 'task_run_id'] as const).map((c) => rows.map((r) => r[c])),
  );
  const keys = [...seen];
  const read = liveRowsStatement(keys);
  const stored = (await db.dataSource.query(read.text, read.values)) as Row[];
  const live: LiveRow[] = stored.map((r) => liveRow(r.key, r.latest_id, r.type, r.flow_run_id, r.task_run_id));
  expect(live.length).toBe(rows.length);

  const filters = fc
    .sample(bodyArb(keys), { numRuns: 3000, seed: SEED })
    .map((body) => ReadLatestArtifactsBody.parse(body) as ArtifactQueryFilters<'artifact_collection'>);
  const wrong: unknown[] = [];
  const counts = { pairs: 0, decided: 0, matched: 0 };
  for (let start = 0; start < filters.length; start += 100) {
    const batch = filters.slice(start, start + 100);
    const statement = liveMatchesStatement(batch.map((f) => ({ filters: f })), keys);
    const answers = new Map(((await db.dataSource.query(statement.text, statement.values)) as { key: string; array_to_string: string }[]).map((r) => [r.key, r.array_to_string]));
    // The app's path: a filter that is not a candidate for the row answers false.
    const tests = batch.map((f) => liveTest(f));
    const mayMatch = live.map(candidates(tests)).map((c) => new Set(c));
    batch.forEach((filter, i) => {
      live.forEach((row, r) => {
        const expected = answers.get(row.key)?.[i] === '1';
        const got = mayMatch[r]?.has(i) ? tests[i]?.verdict(row) : false;
        counts.pairs++;
        if (got === undefined) return;
        counts.decided++;
        if (got) counts.matched++;
        if (got !== expected) wrong.push({ seed: SEED, filter, key: row.key, type: row.type, got, expected });
      });
    });
  }
  expect(wrong.slice(0, 3)).toEqual([]);
  // Most pairs are decided in the app, and a fair share of them match.
  expect(counts.decided).toBeGreaterThan(counts.pairs * 0.6);
  expect(counts.matched).toBeGreaterThan(counts.decided * 0.05);
}, 120_000);
