import { Client } from 'pg';
import { ListRequest, listRequest, listStatement, ReadLatestArtifactsBody, TAG_SHARES, tagSharesOf } from '@app/filters';
import { MAX_INDEXED_TAG_BYTES } from '@app/persistence/collection-tags';
import { CollectionTags1700000000150 } from '@app/persistence/migrations/1700000000150-collection-tags';
import { createTestDatabase, TestDatabase } from '../../../test/support/database';
import { ArtifactReadModel } from '../src/artifacts/artifact-read-model';
import { QueryDatabase } from '../src/query-database';

// The collection's tag entries (migration 1700000000150) must be exactly the tags of the
// rows' copies, whatever wrote the rows: inserts, upserts changing or keeping a copy,
// deletes, rollbacks, two writers at once, a TRUNCATE, the migration's seed and the
// rebuild's refill; and a page read from them must equal the page read from the copies.

let db: TestDatabase;
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase('collection_tags');
  for (let i = 0; i < 2; i++) {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    clients.push(client);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await db?.drop();
});

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const LONG = 'x'.repeat(MAX_INDEXED_TAG_BYTES + 1);
const TAGS: (string[] | null)[] = [null, [], ['a'], ['b'], ['a', 'b'], ['b', 'a', 'b'], ['c', LONG], ['é', 'a']];

function random(seed: number) {
  let s = seed;
  const next = () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  return { int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T };
}
type Rng = ReturnType<typeof random>;

/** Upserts collection rows of these keys with random tag copies, as the collection write does. */
async function upsert(client: Client, rnd: Rng, keys: number[]): Promise<void> {
  const runTags = keys.map(() => rnd.pick(TAGS));
  const flowTags = keys.map(() => rnd.pick(TAGS));
  await client.query(
    `INSERT INTO artifact_collection (id, created, updated, key, latest_id, run_tags, run_flow_tags)
     SELECT md5(r.key)::uuid, now(), now(), r.key, gen_random_uuid(), r.run::text[], r.flow::text[]
     FROM unnest($1::text[], $2::text[], $3::text[]) AS r(key, run, flow)
     ON CONFLICT (key) DO UPDATE SET updated = excluded.updated, run_tags = excluded.run_tags, run_flow_tags = excluded.run_flow_tags`,
    [keys.map((k) => `key-${k}`), runTags.map((t) => (t ? `{${t.map((x) => `"${x}"`).join(',')}}` : null)), flowTags.map((t) => (t ? `{${t.map((x) => `"${x}"`).join(',')}}` : null))],
  );
}

/** One random write of writer 0 or 1 (keys of its own, as Kafka partitions them): most commit, some roll back. */
async function write(client: Client, rnd: Rng, writer: number): Promise<void> {
  const keys = [...new Set(Array.from({ length: 1 + rnd.int(12) }, () => rnd.int(25) * 2 + writer))].sort((x, y) => x - y);
  await client.query('BEGIN');
  const kind = rnd.int(5);
  if (kind <= 2) await upsert(client, rnd, keys);
  else if (kind === 3) await client.query('UPDATE artifact_collection SET run_flow_tags = $1 WHERE key = ANY($2::text[])', [rnd.pick(TAGS), keys.map((k) => `key-${k}`)]);
  else await client.query('DELETE FROM artifact_collection WHERE key = ANY($1::text[])', [keys.map((k) => `key-${k}`)]);
  await client.query(rnd.int(5) === 0 ? 'ROLLBACK' : 'COMMIT');
}

const ENTRIES = 'SELECT source, tag, id FROM artifact_collection_tag ORDER BY 1, 2, 3';
const EXPECTED = `SELECT DISTINCT s.source, s.tag, c.id FROM artifact_collection c
  CROSS JOIN LATERAL (SELECT 'flow' AS source, unnest(c.run_flow_tags) AS tag UNION ALL SELECT 'run', unnest(c.run_tags)) s
  WHERE octet_length(s.tag) <= ${MAX_INDEXED_TAG_BYTES} ORDER BY 1, 2, 3`;

async function expectExact(): Promise<number> {
  const [entries, expected] = await Promise.all([clients[0]!.query(ENTRIES), clients[0]!.query(EXPECTED)]);
  expect(entries.rows).toEqual(expected.rows);
  return entries.rows.length;
}

it('equals the tags of the copies through random writes, two writers at once, rollbacks and a TRUNCATE', async () => {
  const [a, b] = clients as [Client, Client];
  const rngs = [random(150), random(151)];
  const sizes: number[] = [];
  for (let step = 0; step < 60; step++) {
    await Promise.all([write(a, rngs[0]!, 0), write(b, rngs[1]!, 1)]);
    if (step === 30) await a.query('TRUNCATE artifact_collection');
    if (step === 31) expect(await expectExact()).toBeLessThan(30);
    if (step % 10 === 9) sizes.push(await expectExact());
  }
  // The writes reached the entries, or their exactness proves nothing; no long tag has one.
  expect(Math.max(...sizes)).toBeGreaterThan(20);
  expect((await a.query('SELECT count(*)::int AS n FROM artifact_collection_tag WHERE octet_length(tag) > $1', [MAX_INDEXED_TAG_BYTES])).rows[0].n).toBe(0);
  expect((await a.query('SELECT count(*)::int AS n FROM artifact_collection WHERE $1 = ANY(run_flow_tags) OR $1 = ANY(run_tags)', [LONG])).rows[0].n).toBeGreaterThan(0);
});

it('is seeded by the migration and refilled after the rebuild from the rows as they are', async () => {
  const [a] = clients as [Client];
  const before = await expectExact();
  expect(before).toBeGreaterThan(0);
  const runner = db.dataSource.createQueryRunner();
  try {
    await new CollectionTags1700000000150().down(runner);
    await new CollectionTags1700000000150().up(runner);
  } finally {
    await runner.release();
  }
  expect(await expectExact()).toBe(before);
  // As the rebuild leaves them: its tables are swapped in without a trigger having run.
  await a.query("INSERT INTO artifact_collection_tag VALUES ('run', 'stale', $1)", [uuid(999)]);
  await a.query("DELETE FROM artifact_collection_tag WHERE source = 'flow'");
  await a.query('SELECT artifact_collection_tag_refill()');
  expect(await expectExact()).toBe(before);
});

describe('a page of a tag', () => {
  const BODIES = [
    { flows: { tags: { all_: ['a'] } } },
    { flows: { tags: { all_: ['b', 'a'] } } },
    { flow_runs: { tags: { all_: ['a'] } } },
    { flow_runs: { tags: { all_: ['é'] } }, flows: { tags: { all_: ['b'] } } },
    { flow_runs: { tags: { all_: ['c', LONG] } } },
    { flows: { tags: { all_: ['a'] } }, offset: 3 },
  ];

  it.each(BODIES.map((body) => [JSON.stringify(body).replace(LONG, `<${LONG.length} x>`), body] as const))('%s, read from the entries, equals the page read from the copies', async (_, body) => {
    const request = listRequest(ReadLatestArtifactsBody.parse({ ...body, limit: 5 }), 200);
    const rare = listStatement('artifact_collection', request);
    const common = listStatement('artifact_collection', { ...request, tagShares: new Map(['flow:a', 'flow:b', 'run:a', 'run:é', 'run:c'].map((k) => [k, 1])) });
    expect(rare.text).toContain('artifact_collection_tag');
    expect(common.text).not.toContain('artifact_collection_tag');
    const [fromEntries, fromCopies] = await Promise.all([clients[0]!.query(rare.text, rare.values), clients[1]!.query(common.text, common.values)]);
    expect(fromCopies.rows.length).toBeGreaterThan(0);
    expect(fromEntries.rows).toEqual(fromCopies.rows);
  });

  it("walks a tag its statistics call common and reads a rare one's entries", async () => {
    const [a] = clients as [Client];
    await a.query('TRUNCATE artifact_collection');
    await a.query(
      `INSERT INTO artifact_collection (id, created, updated, key, latest_id, run_tags, run_flow_tags)
       SELECT gen_random_uuid(), now(), now(), 'k-' || n, gen_random_uuid(), ARRAY['common'], CASE WHEN n % 20 = 0 THEN ARRAY['rare'] ELSE ARRAY['other'] END
       FROM generate_series(1, 2000) AS n`,
    );
    await a.query('ANALYZE artifact_collection');
    const shares = tagSharesOf((await a.query({ text: TAG_SHARES.text, rowMode: 'array' })).rows);
    expect(shares.get('run:common')).toBeCloseTo(1, 2);
    expect(shares.get('flow:rare')).toBeCloseTo(0.05, 2);

    const query = await QueryDatabase.open(db.url, 2);
    try {
      const texts = jest.spyOn(query, 'texts');
      const model = new ArtifactReadModel(query);
      const page = (body: object) => model.list('artifact_collection', listRequest(ReadLatestArtifactsBody.parse(body), 200) as ListRequest<'artifact_collection'>);
      // The first read starts reading the shares; until they are in, every tag is taken as rare.
      await page({ flow_runs: { tags: { all_: ['common'] } } });
      for (let i = 0; i < 100 && (texts.mock.calls.at(-1)![0].text.includes('artifact_collection_tag')); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        await page({ flow_runs: { tags: { all_: ['common'] } } });
      }
      expect(texts.mock.calls.at(-1)![0].text).not.toContain('artifact_collection_tag');
      await page({ flows: { tags: { all_: ['rare'] } } });
      expect(texts.mock.calls.at(-1)![0].text).toContain('artifact_collection_tag');
    } finally {
      await query.close();
    }
  });
});
