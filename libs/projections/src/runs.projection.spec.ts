import { planRuns } from './runs.projection';
import { at, deploymentUpserted, entityDeleted, flowRunUpserted, flowUpserted, runPosition, taskRunUpserted, uuid } from './testing/fixtures';
import { given } from './testing/given';

const [F, R] = [uuid(1), uuid(2)];

describe('run projection: snapshots, last writer wins on updated', () => {
  it('an upsert stores the snapshot', () => {
    const { tables } = given().when(flowRunUpserted({ id: R, updated: at(10), name: 'brave-otter', tags: ['a', 'b'], state_type: 'RUNNING', state_name: 'Running', created_by: { id: null, type: 'USER', display_value: 'me' } }, runPosition(0)));
    expect(tables.flow_run).toEqual([expect.objectContaining({ id: R, name: 'brave-otter', tags: ['a', 'b'], state_type: 'RUNNING', created_by: { id: null, type: 'USER', display_value: 'me' } })]);
  });

  it('a newer snapshot replaces the row', () => {
    const { tables } = given(flowUpserted({ id: F, updated: at(10), name: 'old' }, runPosition(0))).when(flowUpserted({ id: F, updated: at(20), name: 'new' }, runPosition(1)));
    expect(tables.flow).toEqual([expect.objectContaining({ name: 'new', updated: at(20) })]);
  });

  it('out of order: an older snapshot arriving later is ignored', () => {
    const { tables } = given(flowUpserted({ id: F, updated: at(20), name: 'new' }, runPosition(0))).when(flowUpserted({ id: F, updated: at(10), name: 'old' }, runPosition(1)));
    expect(tables.flow).toEqual([expect.objectContaining({ name: 'new' })]);
  });

  it('delivered twice: the same snapshot again leaves the row as it is', () => {
    const snapshot = taskRunUpserted({ id: R, updated: at(10), name: 't', tags: ['x'] }, runPosition(0));
    const { tables } = given(snapshot).when(snapshot);
    expect(tables.task_run).toEqual([expect.objectContaining({ id: R, name: 't', tags: ['x'] })]);
  });

  it('a batch folds to one row per entity: the greatest updated, ties to the later event', () => {
    const plan = planRuns([
      flowUpserted({ id: F, updated: at(20), name: 'b' }, runPosition(0)),
      flowUpserted({ id: F, updated: at(10), name: 'a' }, runPosition(1)),
      flowUpserted({ id: F, updated: at(20), name: 'c' }, runPosition(2)),
      deploymentUpserted({ id: R, updated: at(5), concurrency_limit: 3, paused: true }, runPosition(3)),
    ]);
    expect(plan.writes.flow.upserts).toEqual([expect.objectContaining({ name: 'c' })]);
    expect(plan.writes.deployment.upserts).toEqual([expect.objectContaining({ concurrency_limit: 3, paused: true })]);
    expect(plan.stats).toEqual({ applied: { 'prefect.flow.upserted': 1, 'prefect.deployment.upserted': 1 }, ignored: { superseded: 2 } });
  });
});

describe('run projection: deletes and tombstones', () => {
  const snapshot = flowRunUpserted({ id: R, updated: at(10), name: 'r' }, runPosition(0));
  const del = entityDeleted('prefect.flow-run.deleted', { id: R, updated: at(20) }, runPosition(1));

  it('a delete removes the row and leaves a tombstone with its updated', () => {
    const { tables } = given(snapshot).when(del);
    expect(tables.flow_run).toEqual([]);
    expect(tables.tombstone).toEqual([{ entity: 'flow_run', id: R, updated: at(20) }]);
  });

  it('out of order: a snapshot older than the delete arriving later does not revive the entity', () => {
    const { tables } = given(snapshot, del).when(flowRunUpserted({ id: R, updated: at(15), name: 'late' }, runPosition(2)));
    expect(tables.flow_run).toEqual([]);
  });

  it('a snapshot newer than the delete revives it', () => {
    const { tables } = given(snapshot, del).when(flowRunUpserted({ id: R, updated: at(30), name: 'back' }, runPosition(2)));
    expect(tables.flow_run).toEqual([expect.objectContaining({ name: 'back' })]);
    expect(tables.tombstone).toEqual([{ entity: 'flow_run', id: R, updated: at(20) }]);
  });

  it('a delete older than the stored snapshot keeps the row but records the tombstone', () => {
    const { tables } = given(flowRunUpserted({ id: R, updated: at(30), name: 'r' }, runPosition(0))).when(del);
    expect(tables.flow_run).toHaveLength(1);
    expect(tables.tombstone).toEqual([{ entity: 'flow_run', id: R, updated: at(20) }]);
  });

  it('delivered twice: a replayed delete keeps the newest tombstone', () => {
    const later = entityDeleted('prefect.flow-run.deleted', { id: R, updated: at(40) }, runPosition(2));
    const { tables } = given(snapshot, later).when(del);
    expect(tables.tombstone).toEqual([{ entity: 'flow_run', id: R, updated: at(40) }]);
  });

  it('upsert then delete then newer upsert in one batch: the row is back, the tombstone recorded', () => {
    const { tables, plan } = given().when(snapshot, del, flowRunUpserted({ id: R, updated: at(30), name: 'again' }, runPosition(2)));
    expect(tables.flow_run).toEqual([expect.objectContaining({ name: 'again' })]);
    expect(tables.tombstone).toEqual([{ entity: 'flow_run', id: R, updated: at(20) }]);
    // Under the run lock; then the versions' and the collections' copies of the run's columns are rewritten.
    expect(plan.statements.map((s) => s.text.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'SELECT pg_advisory_xact_lock($1::int8)',
      'INSERT INTO tombstone',
      'INSERT INTO flow_run',
      'WITH versions AS',
    ]);
  });

  it('tombstones are per entity: deleting a flow does not block a flow run with the same id', () => {
    const { tables } = given(entityDeleted('prefect.flow.deleted', { id: R, updated: at(50) }, runPosition(0))).when(snapshot);
    expect(tables.flow_run).toHaveLength(1);
  });
});

describe('run projection: statements', () => {
  it('passes tags and created_by as JSON text, one array parameter per column', () => {
    const { statements } = planRuns([flowRunUpserted({ id: R, updated: at(1), tags: ['a,b', '"q"'], created_by: { id: null, type: 'USER', display_value: null } }, runPosition(0))]);
    expect(statements).toHaveLength(2);
    const [statement, sync] = statements;
    expect(sync?.text).toMatch(/^WITH versions AS \(\s+UPDATE artifact AS a .*\)\s+UPDATE artifact_collection AS c/s);
    expect(sync?.values).toEqual([[R]]);
    expect(statement?.values).toHaveLength(18);
    expect(statement?.values).toContainEqual(['["a,b","\\"q\\""]']);
    expect(statement?.values).toContainEqual(['{"id":null,"type":"USER","display_value":null}']);
    expect(statement?.text).toMatch(/ON CONFLICT \(id\) DO UPDATE SET[\s\S]*WHERE t\.updated <= excluded\.updated/);
    expect(statement?.text).toMatch(/ts\.updated > u\.updated/);
  });
});
