import fc from 'fast-check';
import { createTestDatabase, TestDatabase } from '../../../../test/support/database';
import { keyPrefilter } from './key-prefilter';

// The key test against PostgreSQL's own ILIKE: it never rules out a key the database
// matches, and for printable ASCII it says exactly what the database says.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('key_prefilter');
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

const text = fc.string({ unit: fc.constantFrom('a', 'B', 'b', 'k', '1', '-', '.', '(', '%', '_', ' ', 'é', 'K', 'ß'), maxLength: 6 });

it("agrees with ILIKE '%like_%' on random keys and patterns", async () => {
  const pairs = fc.sample(fc.tuple(text, text.filter((like) => like !== '')), 3000);
  const rows = (await db.dataSource.query(`SELECT k ILIKE '%' || l || '%' AS hit FROM unnest($1::text[], $2::text[]) AS p(k, l)`, [
    pairs.map(([key]) => key),
    pairs.map(([, like]) => like),
  ])) as { hit: boolean }[];
  const ascii = /^[\x20-\x7e]*$/;
  let exact = 0;
  pairs.forEach(([key, like], i) => {
    const pass = keyPrefilter({ artifacts: { operator: 'and_', key: { like_: like } } as never });
    const hit = rows[i]!.hit;
    if (hit) expect({ key, like, pass: pass ? pass(key) : true }).toEqual({ key, like, pass: true });
    if (ascii.test(key) && ascii.test(like)) {
      expect({ key, like, pass: pass?.(key) }).toEqual({ key, like, pass: hit });
      exact++;
    }
  });
  expect(exact).toBeGreaterThan(500);
});
