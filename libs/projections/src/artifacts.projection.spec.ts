import { collectionId } from './collection-id';
import { at, created, deleted, position, updated, uuid } from './testing/fixtures';
import { given } from './testing/given';

const [A, B, C, D] = [uuid(1), uuid(2), uuid(3), uuid(4)];
const K = 'daily-report';

describe('artifact projection: creates', () => {
  it('the first version of a key makes its collection row (created = updated = the version’s, id from the key)', () => {
    const { tables, plan } = given().when(created({ id: A, key: K, created: at(10), data: '{"n":1.0}', description: 'first' }, position(0)));
    expect(tables.artifact).toEqual([expect.objectContaining({ id: A, key: K, data: '{"n":1.0}', src_partition: 0, src_offset: '0' })]);
    expect(tables.artifact_collection).toEqual([
      { id: collectionId(K), key: K, latest_id: A, created: at(10), updated: at(10), type: null, description: 'first', data: '{"n":1.0}', metadata_: null, flow_run_id: null, task_run_id: null },
    ]);
    expect(plan.stats.applied).toEqual({ 'prefect.artifact.created': 1 });
  });

  it('a newer version becomes the latest; the collection keeps its created and copies every field, nulls included', () => {
    const { tables } = given(created({ id: A, key: K, created: at(10), description: 'first', type: 'markdown' }, position(0))).when(
      created({ id: B, key: K, created: at(20) }, position(1)),
    );
    expect(tables.artifact_collection).toEqual([expect.objectContaining({ latest_id: B, created: at(10), updated: at(20), description: null, type: null })]);
  });

  it('out of order: an older version arriving later does not displace the latest', () => {
    const { tables, plan } = given(created({ id: B, key: K, created: at(20) }, position(0))).when(created({ id: A, key: K, created: at(10) }, position(1)));
    expect(tables.artifact.map((a) => a.id)).toEqual([A, B]);
    expect(tables.artifact_collection).toEqual([expect.objectContaining({ latest_id: B, created: at(20), updated: at(20) })]);
    expect(plan.artifacts.collectionUpserts).toEqual([]);
    // A version counts under its run's state (migration 1700000000100): its writer excludes the run writers.
    expect(plan.statements[0]?.text).toBe('SELECT pg_advisory_xact_lock_shared($1::int8)');
  });

  it('out of order within one batch: the latest is the greatest created, whatever the arrival order', () => {
    const { tables } = given().when(created({ id: C, key: K, created: at(30) }, position(0)), created({ id: A, key: K, created: at(10) }, position(1)), created({ id: B, key: K, created: at(20) }, position(2)));
    expect(tables.artifact_collection).toEqual([expect.objectContaining({ latest_id: C, created: at(30) })]);
  });

  it('equal created: the version whose event came later in the partition wins', () => {
    const { tables } = given(created({ id: B, key: K, created: at(10) }, position(5))).when(created({ id: A, key: K, created: at(10) }, position(6)));
    expect(tables.artifact_collection).toEqual([expect.objectContaining({ latest_id: A })]);
  });

  it('compares offsets as integers, not text', () => {
    const { tables } = given(created({ id: A, key: K, created: at(10) }, position(9))).when(created({ id: B, key: K, created: at(10) }, position(10)));
    expect(tables.artifact_collection[0]?.latest_id).toBe(B);
  });

  it('delivered twice: a replayed create changes nothing', () => {
    const first = created({ id: A, key: K, created: at(10), description: 'v1' }, position(0));
    const { plan, tables } = given(first, updated({ id: A, key: K, updated: at(11), description: 'edited' }, position(1))).when(first);
    expect(plan.statements).toEqual([]);
    expect(plan.stats.ignored).toEqual({ duplicate: 1 });
    expect(tables.artifact[0]?.description).toBe('edited');
  });

  it('keyless versions never touch the collection', () => {
    const { tables, plan } = given().when(created({ id: A, key: null, created: at(10) }, position(0)), updated({ id: A, updated: at(11), data: '1' }, position(1)), created({ id: B, key: null, created: at(12) }, position(2)), deleted({ id: B }, position(3)));
    expect(tables.artifact_collection).toEqual([]);
    expect(plan.artifacts.collectionUpserts).toEqual([]);
    expect(plan.artifacts.collectionDeletes).toEqual([]);
    expect(plan.statements[0]?.text).toBe('SELECT pg_advisory_xact_lock_shared($1::int8)');
  });
});

describe('artifact projection: updates', () => {
  const v1 = created({ id: A, key: K, created: at(10), data: '"one"', description: 'd1', metadata_: '{"a":"1"}' }, position(0));
  const v2 = created({ id: B, key: K, created: at(20), data: '"two"', description: 'd2', metadata_: '{"b":"2"}' }, position(1));

  it('an update of the latest changes the present fields on the version and the collection; updated = the event’s', () => {
    const { tables } = given(v1, v2).when(updated({ id: B, key: K, updated: at(30), data: '[1.0]', description: null }, position(2)));
    const expected = { updated: at(30), data: '[1.0]', description: null, metadata_: '{"b":"2"}' };
    expect(tables.artifact.find((a) => a.id === B)).toMatchObject(expected);
    expect(tables.artifact_collection).toEqual([expect.objectContaining({ ...expected, latest_id: B, created: at(10) })]);
  });

  it('an update of an older version leaves the collection alone', () => {
    const { tables, plan } = given(v1, v2).when(updated({ id: A, key: K, updated: at(30), description: 'patched' }, position(2)));
    expect(tables.artifact.find((a) => a.id === A)).toMatchObject({ description: 'patched', updated: at(30) });
    expect(tables.artifact_collection).toEqual([expect.objectContaining({ latest_id: B, description: 'd2', updated: at(20) })]);
    expect(plan.artifacts.collectionUpserts).toEqual([]);
  });

  it('an update with no fields only bumps updated (on the collection too when it is the latest)', () => {
    const { tables } = given(v1, v2).when(updated({ id: B, key: K, updated: at(25) }, position(2)));
    expect(tables.artifact.find((a) => a.id === B)).toMatchObject({ updated: at(25), data: '"two"', description: 'd2' });
    expect(tables.artifact_collection).toEqual([expect.objectContaining({ updated: at(25), data: '"two"' })]);
  });

  it('delivered twice: a replayed older update cannot undo a newer one', () => {
    const older = updated({ id: B, key: K, updated: at(30), description: 'older' }, position(2));
    const { tables, plan } = given(v1, v2, older, updated({ id: B, key: K, updated: at(40), description: 'newer' }, position(3))).when(older);
    expect(tables.artifact_collection[0]).toMatchObject({ description: 'newer', updated: at(40) });
    expect(plan.stats.ignored).toEqual({ stale: 1 });
    expect(plan.statements).toEqual([]);
  });

  it('out of order within one batch: updates merge per id, each field from the last update that set it', () => {
    const { plan, tables } = given(v1, v2).when(
      updated({ id: B, key: K, updated: at(30), description: 'x', data: '1' }, position(2)),
      updated({ id: B, key: K, updated: at(29), description: 'late and older' }, position(3)),
      updated({ id: B, key: K, updated: at(31), data: '2' }, position(4)),
    );
    expect(plan.artifacts.patches).toEqual([{ id: B, updated: at(31), description: 'x', data: '2' }]);
    expect(tables.artifact_collection[0]).toMatchObject({ description: 'x', data: '2', updated: at(31) });
  });

  it('an update of a version created in the same batch folds into its insert', () => {
    const { plan } = given().when(created({ id: A, key: K, created: at(10) }, position(0)), updated({ id: A, key: K, updated: at(11), metadata_: '{"m":"1"}' }, position(1)));
    expect(plan.artifacts.patches).toEqual([]);
    expect(plan.artifacts.inserts).toEqual([expect.objectContaining({ id: A, updated: at(11), metadata_: '{"m":"1"}' })]);
  });

  it('an update of an unknown id changes nothing and is counted', () => {
    const { plan } = given(v1).when(updated({ id: D, key: K, updated: at(30), description: 'x' }, position(2)));
    expect(plan.statements).toEqual([]);
    expect(plan.stats.ignored).toEqual({ unknown_id: 1 });
  });

  it('the stored key wins over the key an update carries', () => {
    const { tables } = given(v1, v2).when(updated({ id: B, key: null, updated: at(30), description: 'no key on the event' }, position(2)));
    expect(tables.artifact_collection[0]).toMatchObject({ description: 'no key on the event' });
  });
});

describe('artifact projection: deletes', () => {
  const v1 = created({ id: A, key: K, created: at(10), description: 'one' }, position(0));
  const v2 = created({ id: B, key: K, created: at(20), description: 'two' }, position(1));
  const v3 = created({ id: C, key: K, created: at(30), description: 'three' }, position(2));

  it('deleting the latest falls back to the next latest, copying its fields, created and updated (Prefect §10.3)', () => {
    const { tables } = given(v1, v2, updated({ id: B, key: K, updated: at(25), data: '"patched"' }, position(3)), v3).when(deleted({ id: C, key: K }, position(4), at(50)));
    expect(tables.artifact.map((a) => a.id)).toEqual([A, B]);
    expect(tables.artifact_collection).toEqual([expect.objectContaining({ id: collectionId(K), latest_id: B, created: at(20), updated: at(25), description: 'two', data: '"patched"' })]);
    expect(tables.tombstone).toEqual([{ entity: 'artifact', id: C, updated: at(50) }]);
  });

  it('out of order: the fallback is the greatest remaining created, not the previous latest', () => {
    const { tables } = given(v3, v1, v2).when(deleted({ id: C, key: K }, position(3)));
    expect(tables.artifact_collection[0]).toMatchObject({ latest_id: B, created: at(20) });
  });

  it('deleting an older version leaves the collection alone', () => {
    const { tables, plan } = given(v1, v2, v3).when(deleted({ id: A, key: K }, position(3)));
    expect(tables.artifact_collection[0]).toMatchObject({ latest_id: C, created: at(10) });
    expect(plan.artifacts.collectionUpserts).toEqual([]);
  });

  it('deleting the last version removes the row; a later create makes a fresh one (same id, new created)', () => {
    const { tables } = given(v1).when(deleted({ id: A, key: K }, position(1)));
    expect(tables.artifact_collection).toEqual([]);
    const again = given(v1, deleted({ id: A, key: K }, position(1))).when(created({ id: B, key: K, created: at(40) }, position(2)));
    expect(again.tables.artifact_collection).toEqual([expect.objectContaining({ id: collectionId(K), latest_id: B, created: at(40), updated: at(40) })]);
  });

  it('several deletes in one batch walk the fallback down the versions', () => {
    const { tables, plan } = given(v1, v2, v3).when(deleted({ id: C, key: K }, position(3)), deleted({ id: B, key: K }, position(4)));
    expect(tables.artifact_collection[0]).toMatchObject({ latest_id: A, created: at(10), description: 'one' });
    expect(plan.statements.filter((s) => s.text.startsWith('INSERT INTO artifact_collection'))).toHaveLength(1);
  });

  it('delivered twice: a replayed delete changes nothing and a replayed create does not revive the version', () => {
    const del = deleted({ id: C, key: K }, position(3));
    const { tables, plan } = given(v1, v2, v3, del).when(del, v3);
    expect(tables.artifact.map((a) => a.id)).toEqual([A, B]);
    expect(tables.artifact_collection[0]).toMatchObject({ latest_id: B });
    expect(plan.statements).toEqual([]);
    expect(plan.stats.ignored).toEqual({ duplicate: 1, tombstoned: 1 });
  });

  it('create and delete in one batch: nothing inserted, the tombstone stays', () => {
    const { plan, tables } = given(v1).when(created({ id: D, key: K, created: at(40) }, position(1)), deleted({ id: D, key: K }, position(2), at(41)));
    expect(plan.artifacts.inserts).toEqual([]);
    expect(plan.artifacts.deletes).toEqual([]);
    expect(tables.tombstone).toEqual([{ entity: 'artifact', id: D, updated: at(41) }]);
    expect(tables.artifact_collection[0]).toMatchObject({ latest_id: A, created: at(10) });
  });

  it('a delete without the key still finds the stored key; an unknown id is counted', () => {
    const { tables, plan } = given(v1, v2).when(deleted({ id: B, key: null }, position(2)), deleted({ id: D }, position(3)));
    expect(tables.artifact_collection[0]).toMatchObject({ latest_id: A });
    expect(plan.stats.ignored).toEqual({ unknown_id: 1 });
  });

  it('uses the delete’s updated for the tombstone when it has one, else the event time', () => {
    const { tables } = given(v1, v2).when(deleted({ id: A, key: K, updated: at(60) }, position(2), at(99)), deleted({ id: B, key: K }, position(3), at(61)));
    expect(tables.tombstone).toEqual([
      { entity: 'artifact', id: A, updated: at(60) },
      { entity: 'artifact', id: B, updated: at(61) },
    ]);
  });
});

describe('artifact projection: statements', () => {
  it('batches each kind of write into one unnest statement, rows sorted by conflict key, values never in the text', () => {
    const keys = ['zeta', 'alpha', 'mid'];
    const events = keys.flatMap((key, i) => [created({ id: uuid(10 - i), key, created: at(i), description: `it's "${key}"` }, position(2 * i)), updated({ id: uuid(10 - i), key, updated: at(i + 1), data: '{}' }, position(2 * i + 1))]);
    const { plan } = given(created({ id: uuid(20), key: 'mid', created: at(0) }, position(100))).when(...events, updated({ id: uuid(20), key: 'mid', updated: at(9) }, position(200)));
    const [lock, ...writes] = plan.statements;
    expect(lock?.text).toBe('SELECT pg_advisory_xact_lock_shared($1::int8)');
    for (const statement of writes) {
      expect(statement.text).toMatch(/unnest\(/);
      expect(statement.values.length).toBeLessThanOrEqual(12);
      expect(statement.text).not.toMatch(/zeta|alpha|it's/);
    }
    expect(plan.artifacts.inserts.map((r) => r.id)).toEqual([uuid(8), uuid(9), uuid(10)]);
    expect(plan.artifacts.collectionUpserts.map((r) => r.key)).toEqual(['alpha', 'mid', 'zeta']);
    expect(writes.map((s) => s.text.split(/\s+/).slice(0, 3).join(' '))).toEqual(['INSERT INTO artifact', 'UPDATE artifact AS', 'INSERT INTO artifact_collection']);
  });
});
