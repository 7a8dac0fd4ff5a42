import { CountArtifactsBody, CountLatestArtifactsBody, ReadArtifactsBody, ReadLatestArtifactsBody } from '../schemas/bodies';
import { ArtifactTable, artifactOrderBy, artifactWhere, requiredTagShare, TagStatistics } from './artifact-query';
import { SqlParams } from './params';
import { countStatement, listRequest, listStatement, tagStatisticsOf } from './artifact-statements';

// The compiler's output for each criterion family and quirk (docs/api.md §7,
// §8, Q4-Q13, Q23-Q27). Semantics are checked against PostgreSQL in the
// integration tests; here we pin the SQL shape and the parameters.

function compile(table: ArtifactTable, body: unknown): { text: string; values: unknown[] } {
  const schema = table === 'artifact' ? CountArtifactsBody : CountLatestArtifactsBody;
  const p = new SqlParams();
  return p.statement(artifactWhere(table, schema.parse(body), p, 't'));
}

const versions = (body: unknown) => compile('artifact', body);
const latest = (body: unknown) => compile('artifact_collection', body);
const RUN = (conditions: string) => `EXISTS (SELECT 1 FROM flow_run fr WHERE fr.id = t.flow_run_id${conditions === 'TRUE' ? '' : ` AND ${conditions}`})`;
const U1 = '6f9619ff-8b86-d011-b42d-00c04fc964ff';

describe('no filter', () => {
  it.each([{}, { artifacts: null }, { artifacts: {} }, { artifacts: { key: {} } }])('%j imposes nothing', (body) => {
    expect(versions(body)).toEqual({ text: 'TRUE', values: [] });
  });
});

describe('any_ / not_any_', () => {
  it('binds a list as one array parameter', () => {
    expect(versions({ artifacts: { type: { any_: ['markdown', 'table'] } } })).toEqual({
      text: 't.type = ANY($1::text[])',
      values: [['markdown', 'table']],
    });
  });

  it('an empty any_ matches nothing (Q5)', () => {
    expect(versions({ artifacts: { key: { any_: [] } } }).text).toBe('FALSE');
    expect(versions({ artifacts: { id: { any_: [] } } }).text).toBe('FALSE');
  });

  it('not_any_ is <> ALL, which NULL never satisfies (Q6); an empty list imposes nothing', () => {
    expect(versions({ artifacts: { type: { not_any_: ['table', 'image'] } } })).toEqual({ text: 't.type <> ALL($1::text[])', values: [['table', 'image']] });
    expect(versions({ artifacts: { type: { not_any_: ['table'] } } })).toEqual({ text: 't.type <> $1::text', values: ['table'] });
    expect(versions({ artifacts: { type: { not_any_: [] } } }).text).toBe('TRUE');
  });

  it('ANDs the criteria of one sub-object', () => {
    expect(versions({ artifacts: { type: { any_: ['a', 'b'], not_any_: ['c', 'd'] } } }).text).toBe('(t.type = ANY($1::text[]) AND t.type <> ALL($2::text[]))');
  });

  it('compares a single value with =, so that an index can also give the order', () => {
    expect(versions({ artifacts: { type: { any_: ['markdown'] } } })).toEqual({ text: 't.type = $1::text', values: ['markdown'] });
  });

  it('canonicalises UUIDs and casts them', () => {
    expect(versions({ artifacts: { flow_run_id: { any_: ['6F9619FF8B86D011B42D00C04FC964FF'] } } })).toEqual({
      text: 't.flow_run_id = $1::uuid',
      values: [U1],
    });
  });
});

describe('like_ (Q4)', () => {
  it('wraps the value in % and leaves its wildcards live', () => {
    expect(versions({ artifacts: { key: { like_: 'a_c%' } } })).toEqual({ text: 't.key ILIKE $1::text', values: ['%a_c%%'] });
  });

  it('ignores an empty string', () => {
    expect(versions({ artifacts: { key: { like_: '' } } }).text).toBe('TRUE');
  });
});

describe('key.exists_', () => {
  it('tests NULL on versions', () => {
    expect(versions({ artifacts: { key: { exists_: true } } }).text).toBe('t.key IS NOT NULL');
    expect(versions({ artifacts: { key: { exists_: false } } }).text).toBe('t.key IS NULL');
  });

  it('is constant on collections, whose key is never NULL (Q27)', () => {
    expect(latest({ artifacts: { key: { exists_: true } } }).text).toBe('TRUE');
    expect(latest({ artifacts: { key: { exists_: false } } }).text).toBe('FALSE');
  });
});

describe('operator', () => {
  it('or_ combines the direct children', () => {
    expect(versions({ artifacts: { operator: 'or_', key: { any_: ['k'] }, type: { any_: ['t'] } } }).text).toBe(
      '(t.key = $1::text OR t.type = $2::text)',
    );
  });

  it('an empty child contributes TRUE, so or_ is TRUE as a whole, its other values unbound (Q10, SQLAlchemy)', () => {
    expect(versions({ artifacts: { operator: 'or_', key: {}, type: { any_: ['x'] } } })).toEqual({ text: 'TRUE', values: [] });
  });

  it('keeps the values around a dropped or_, renumbered', () => {
    const body = {
      artifacts: { type: { any_: ['a'] } },
      flow_runs: { operator: 'or_', tags: { operator: 'or_' }, name: { any_: ['n'] } },
      task_runs: { name: { any_: ['m'] } },
    };
    expect(versions(body)).toEqual({
      text: `(t.type = $1::text AND ${RUN('TRUE')} AND EXISTS (SELECT 1 FROM task_run tr WHERE tr.id = t.task_run_id AND tr.name = $2::text))`,
      values: ['a', 'm'],
    });
  });

  it('an empty child of an and_ changes nothing', () => {
    expect(versions({ artifacts: { key: {}, type: { any_: ['x'] } } })).toEqual({ text: 't.type = $1::text', values: ['x'] });
  });

  it('latest_id is the collection filter, id the version filter', () => {
    expect(latest({ artifacts: { latest_id: { any_: [U1] } } }).text).toBe('t.latest_id = $1::uuid');
    expect(() => latest({ artifacts: { id: { any_: [U1] } } })).toThrow();
    expect(() => versions({ artifacts: { latest_id: { any_: [U1] } } })).toThrow();
  });
});

describe('cross-entity filters (§8)', () => {
  it('an empty related filter still requires the related row (Q7)', () => {
    expect(versions({ flow_runs: {} }).text).toBe('EXISTS (SELECT 1 FROM flow_run fr WHERE fr.id = t.flow_run_id)');
    expect(versions({ task_runs: { flow_run_id: { is_null_: null } } }).text).toBe('EXISTS (SELECT 1 FROM task_run tr WHERE tr.id = t.task_run_id)');
    expect(versions({ flows: {} }).text).toBe('EXISTS (SELECT 1 FROM flow_run fr JOIN flow fl ON fl.id = fr.flow_id WHERE fr.id = t.flow_run_id)');
    // On the version's copy of its run's deployment (migration 130; NULL while the run is unknown), the deployment required to exist.
    expect(versions({ deployments: {} }).text).toBe('t.run_deployment_id IN (SELECT d.id FROM deployment d)');
  });

  it('checks flow run, flow and deployment on the same run, the task run separately', () => {
    const { text, values } = versions({
      flow_runs: { name: { any_: ['r'] } },
      flows: { name: { any_: ['f'] } },
      deployments: { name: { any_: ['d'] } },
      task_runs: { name: { any_: ['t'] } },
      artifacts: { type: { any_: ['x'] } },
    });
    expect(text).toBe(
      '(t.type = $1::text AND ' +
        'EXISTS (SELECT 1 FROM flow_run fr JOIN flow fl ON fl.id = fr.flow_id JOIN deployment d ON d.id = fr.deployment_id ' +
        'WHERE fr.id = t.flow_run_id AND fr.name = $2::text AND fl.name = $3::text AND d.name = $4::text) AND ' +
        'EXISTS (SELECT 1 FROM task_run tr WHERE tr.id = t.task_run_id AND tr.name = $5::text))',
    );
    expect(values).toEqual(['x', 'r', 'f', 'd', 't']);
  });
});

describe("the collection's copies of its run's columns (migration 080)", () => {
  it('say a deployment or flow id filter on the copy, the deployment or flow still required to exist', () => {
    expect(latest({ deployments: { id: { any_: [U1] } } })).toEqual({
      text: '(t.run_deployment_id = $1::uuid AND EXISTS (SELECT 1 FROM deployment x WHERE x.id = t.run_deployment_id))',
      values: [U1],
    });
    expect(latest({ flows: { operator: 'or_', id: { any_: [U1, U1] } } }).text).toBe(
      '(t.run_flow_id = ANY($1::uuid[]) AND EXISTS (SELECT 1 FROM flow x WHERE x.id = t.run_flow_id))',
    );
  });

  it("say a run's deployment_id and state type on the copies alone", () => {
    expect(latest({ flow_runs: { deployment_id: { any_: [U1] }, state: { type: { any_: ['FAILED', 'CRASHED'] } } } })).toEqual({
      text: '(t.run_deployment_id = $1::uuid AND t.run_state_type = ANY($2::text[]))',
      values: [U1, ['FAILED', 'CRASHED']],
    });
    expect(latest({ flow_runs: { state: { type: { any_: [] } } } }).text).toBe('FALSE');
    expect(latest({ flow_runs: { operator: 'or_', deployment_id: { any_: [U1] }, state: { type: { any_: ['FAILED'] } } } })).toEqual({
      text: '(t.run_deployment_id = $1::uuid OR t.run_state_type = $2::text)',
      values: [U1, 'FAILED'],
    });
  });

  it("say a run's tags and its flow's tags on the copies (migration 120), the run or the flow still required to exist", () => {
    expect(latest({ flow_runs: { tags: { all_: ['a'] } } })).toEqual({ text: '(t.run_tags IS NOT NULL AND t.run_tags @> $1::text[])', values: [['a']] });
    expect(latest({ flow_runs: { operator: 'or_', state: { type: { any_: ['FAILED'] } }, tags: { all_: ['a'] } } })).toEqual({
      text: '(t.run_tags IS NOT NULL AND (t.run_state_type = $1::text OR t.run_tags @> $2::text[]))',
      values: ['FAILED', ['a']],
    });
    expect(latest({ flow_runs: { tags: { operator: 'or_', any_: ['a'], is_null_: true } } })).toEqual({
      text: "(t.run_tags IS NOT NULL AND (t.run_tags && $1::text[] OR t.run_tags = '{}'::text[]))",
      values: [['a']],
    });
    // A tag filter that holds for any tags: the run exists.
    expect(latest({ flow_runs: { tags: { all_: [] } } }).text).toBe('t.run_tags IS NOT NULL');
    expect(latest({ flow_runs: { operator: 'or_', tags: {}, state: { type: { any_: ['FAILED'] } } } }).text).toBe('t.run_tags IS NOT NULL');
    expect(latest({ flows: { tags: { all_: ['a', 'b'] } }, flow_runs: { tags: { all_: ['c'] } } })).toEqual({
      text: '(t.run_flow_tags IS NOT NULL AND t.run_flow_tags @> $1::text[] AND t.run_tags IS NOT NULL AND t.run_tags @> $2::text[])',
      values: [['a', 'b'], ['c']],
    });
    expect(latest({ flows: { operator: 'or_', tags: { all_: [] } } }).text).toBe('t.run_flow_tags IS NOT NULL');
  });

  it.each([
    ['another run condition', { flow_runs: { state: { type: { any_: ['FAILED'] } }, name: { any_: ['a'] } } }],
    ['or_ between a copied and another run condition', { flow_runs: { operator: 'or_', tags: { all_: ['a'] }, name: { any_: ['a'] } } }],
    ['a state name beside the type', { flow_runs: { state: { type: { any_: ['FAILED'] }, name: { any_: ['Failed'] } } } }],
    ['an empty related filter', { flow_runs: {} }],
    ['a run tag beside its work queue', { flow_runs: { tags: { all_: ['b'] }, work_queue_name: { any_: ['q'] } } }],
    ['a deployment_id that is null', { flow_runs: { deployment_id: { is_null_: true } } }],
  ])('leave the run EXISTS when the filter asks more: %s', (_, body) => {
    expect(latest(body).text).toContain('EXISTS (SELECT 1 FROM flow_run fr');
  });

  it('say any other deployment or flow filter as the copy being one of the rows it matches', () => {
    expect(latest({ deployments: { id: { not_any_: [U1] } } })).toEqual({
      text: 't.run_deployment_id IN (SELECT d.id FROM deployment d WHERE d.id <> $1::uuid)',
      values: [U1],
    });
    expect(latest({ deployments: { id: { any_: [U1] }, name: { any_: ['d'] } } }).text).toBe(
      't.run_deployment_id IN (SELECT d.id FROM deployment d WHERE (d.id = $1::uuid AND d.name = $2::text))',
    );
    expect(latest({ flows: { tags: { all_: ['a', 'b'] }, name: { like_: 'f' } }, flow_runs: { state: { type: { any_: ['FAILED'] } } } })).toEqual({
      text: "(t.run_flow_id IN (SELECT fl.id FROM flow fl WHERE (fl.name ILIKE $1::text AND fl.tags @> $2::text[])) AND t.run_state_type = $3::text)",
      values: ['%f%', ['a', 'b'], 'FAILED'],
    });
    expect(latest({ deployments: {} }).text).toBe('t.run_deployment_id IN (SELECT d.id FROM deployment d)');
  });

  it("on a version only its run's deployment (migration 130): any other run or flow filter keeps the run EXISTS", () => {
    expect(versions({ deployments: { id: { any_: [U1] } } })).toEqual({
      text: '(t.run_deployment_id = $1::uuid AND EXISTS (SELECT 1 FROM deployment x WHERE x.id = t.run_deployment_id))',
      values: [U1],
    });
    expect(versions({ flow_runs: { deployment_id: { any_: [U1] } } })).toEqual({ text: 't.run_deployment_id = $1::uuid', values: [U1] });
    expect(versions({ deployments: { name: { any_: ['d'] } } }).text).toBe('t.run_deployment_id IN (SELECT d.id FROM deployment d WHERE d.name = $1::text)');
    for (const body of [
      { flows: { id: { any_: [U1] } } },
      { deployments: { id: { any_: [U1] } }, flows: {} },
      { flow_runs: { state: { type: { any_: ['FAILED'] } } } },
      { flow_runs: { deployment_id: { any_: [U1] }, tags: { all_: ['a'] } } },
    ]) {
      expect(versions(body).text).toContain('FROM flow_run fr');
      expect(versions(body).text).not.toContain('run_flow_id');
    }
  });
});

describe('statements planned for each execution', () => {
  const statements = (body: object) => [
    countStatement('artifact', CountArtifactsBody.parse(body)),
    countStatement('artifact_collection', CountLatestArtifactsBody.parse(body)),
    listStatement('artifact', listRequest(ReadArtifactsBody.parse({ ...body, offset: 10 }), 200)),
    listStatement('artifact_collection', listRequest(ReadLatestArtifactsBody.parse({ ...body, offset: 10 }), 200)),
  ];

  it.each([
    { flow_runs: { state: { type: { any_: ['FAILED'] } } }, artifacts: { key: { like_: 'a' } } },
    { flow_runs: { deployment_id: { any_: [U1] } }, artifacts: { key: { like_: 'a' } } },
    { flows: { id: { any_: [U1] } }, artifacts: { key: { like_: 'a' } } },
    { deployments: {} },
  ])('with a deployment, flow or state filter %j, lists and counts of both tables', (body) => {
    expect(statements(body).map((s) => s.prepare)).toEqual([false, false, false, false]);
  });

  // The count of the latest versions is then read from the tally (migration 090): a few rows, one plan.
  it.each([{ flow_runs: { deployment_id: { any_: [U1] } } }, { flows: { id: { any_: [U1] } } }])('with only a deployment or flow filter %j, all but the tallied count', (body) => {
    expect(statements(body).map((s) => [s.prepare, s.text.includes('read_model_tally')])).toEqual([
      [false, false],
      [undefined, true],
      [false, false],
      [false, false],
    ]);
  });

  // With only a state filter, the versions' count is tallied too (migration 100).
  it('with only a state filter, all but the tallied counts', () => {
    expect(statements({ flow_runs: { state: { type: { any_: ['FAILED'] } } } }).map((s) => [s.prepare, s.text.includes('read_model_tally')])).toEqual([
      [undefined, true],
      [undefined, true],
      [false, false],
      [false, false],
    ]);
  });

  // A tag of the run or of its flow: the latest versions' page and count (read from the copies' GIN index or in id order), not the versions'.
  it.each([{ flow_runs: { tags: { all_: ['a'] } } }, { flows: { tags: { all_: ['a'] } } }])('with a tag filter %j, the latest versions only', (body) => {
    expect(statements(body).map((s) => s.prepare)).toEqual([undefined, false, undefined, false]);
  });

  it.each([{}, { artifacts: { type: { any_: ['table'] } } }, { task_runs: {} }, { flow_runs: { name: { any_: ['a'] } } }])('none without one: %j', (body) => {
    expect(statements(body).map((s) => s.prepare)).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('FlowRunFilter', () => {
  it('drops a state sub-object yielding two conditions or none (Q12)', () => {
    expect(versions({ flow_runs: { state: { type: { any_: ['COMPLETED'], not_any_: ['COMPLETED'] } } } })).toEqual({
      text: RUN('TRUE'),
      values: [],
    });
    expect(versions({ flow_runs: { state: { operator: 'or_', type: {}, name: { any_: ['Done'] } } } }).text).toBe(RUN('fr.state_name = $1::text'));
  });

  it('keeps a single-condition state sub-object, an empty not_any_ not counting', () => {
    expect(versions({ flow_runs: { state: { type: { any_: ['COMPLETED'], not_any_: [] } } } })).toEqual({
      text: RUN('fr.state_type = $1::text'),
      values: ['COMPLETED'],
    });
    expect(versions({ flow_runs: { state: { type: { not_any_: ['FAILED'] } } } }).text).toBe(RUN('fr.state_type <> $1::text'));
  });

  it('compares start_time bounds with the expected start as fallback, is_null_ on start_time alone (Q23)', () => {
    expect(versions({ flow_runs: { start_time: { after_: '2024-01-01T13:00:00+01:00', is_null_: false } } })).toEqual({
      text: RUN('(coalesce(fr.start_time, fr.expected_start_time) >= $1::timestamptz AND fr.start_time IS NOT NULL)'),
      values: ['2024-01-01T12:00:00.000000Z'],
    });
  });

  it('tags: all_ as containment, any_ as overlap, is_null_ as the empty array', () => {
    expect(versions({ flow_runs: { tags: { all_: ['a', 'b'], any_: ['c'], is_null_: false } } }).text).toBe(
      RUN(`(fr.tags @> $1::text[] AND fr.tags && $2::text[] AND fr.tags <> '{}'::text[])`),
    );
    expect(versions({ flow_runs: { tags: { all_: [], any_: [] } } }).text).toBe(RUN('FALSE'));
    expect(versions({ flow_runs: { tags: { is_null_: true } } }).text).toBe(RUN(`fr.tags = '{}'::text[]`));
  });

  it('parent_flow_run_id goes through the parent task run', () => {
    expect(versions({ flow_runs: { parent_flow_run_id: { any_: [U1] } } }).text).toBe(
      RUN('EXISTS (SELECT 1 FROM task_run ptr WHERE ptr.id = fr.parent_task_run_id AND ptr.flow_run_id = ANY($1::uuid[]))'),
    );
    expect(versions({ flow_runs: { parent_flow_run_id: { any_: [] } } }).text).toBe(RUN('FALSE'));
  });

  it('created_by uses id_ / type_ on the JSON members, is_null_ on the object', () => {
    const { text, values } = versions({ flow_runs: { created_by: { operator: 'or_', id_: [U1], type_: ['DEPLOYMENT'], is_null_: true } } });
    expect(text).toBe(
      RUN(
        "((fr.created_by->>'id') = $1::text OR (fr.created_by->>'type') = $2::text OR coalesce(jsonb_typeof(fr.created_by), 'null') = 'null')",
      ),
    );
    expect(values).toEqual([U1, 'DEPLOYMENT']);
    expect(versions({ flow_runs: { created_by: { type_: [] } } }).text).toBe(RUN('FALSE'));
  });

  it('idempotency_key not_any_ and id not_any_', () => {
    expect(versions({ flow_runs: { idempotency_key: { not_any_: ['k'] }, id: { not_any_: [] } } }).text).toBe(
      RUN('fr.idempotency_key <> $1::text'),
    );
  });
});

describe('TaskRunFilter', () => {
  const TASK = (conditions: string) => `EXISTS (SELECT 1 FROM task_run tr WHERE tr.id = t.task_run_id AND ${conditions})`;

  it.each([
    [{}, 'tr.flow_run_id IS NOT NULL'],
    [{ is_null_: false }, 'tr.flow_run_id IS NOT NULL'],
    [{ is_null_: true, any_: [U1] }, 'tr.flow_run_id IS NULL'],
    [{ any_: [U1] }, 'tr.flow_run_id = $1::uuid'],
    [{ is_null_: false, any_: [] }, 'FALSE'],
    [{ is_null_: null, any_: [U1, U1] }, 'tr.flow_run_id = ANY($1::uuid[])'],
  ])('flow_run_id %j follows the decision table (Q24)', (flowRunId, condition) => {
    expect(versions({ task_runs: { flow_run_id: flowRunId } }).text).toBe(TASK(condition));
  });

  it('subflow_runs.exists_ looks for a flow run whose parent is the task run', () => {
    const subflow = 'EXISTS (SELECT 1 FROM flow_run sfr WHERE sfr.parent_task_run_id = tr.id)';
    expect(versions({ task_runs: { subflow_runs: { exists_: true }, flow_run_id: { is_null_: null } } }).text).toBe(TASK(subflow));
    expect(versions({ task_runs: { subflow_runs: { exists_: false }, flow_run_id: { is_null_: null } } }).text).toBe(TASK(`NOT ${subflow}`));
  });

  it('has no not_any_ on state, no any_ on tags (Q25)', () => {
    expect(() => versions({ task_runs: { state: { type: { not_any_: ['FAILED'] } } } })).toThrow();
    expect(() => versions({ task_runs: { tags: { any_: ['x'] } } })).toThrow();
  });
});

describe('FlowFilter and DeploymentFilter', () => {
  const FLOW = (c: string) => `EXISTS (SELECT 1 FROM flow_run fr JOIN flow fl ON fl.id = fr.flow_id WHERE fr.id = t.flow_run_id AND ${c})`;
  // A deployment filter alone is said on the version's copy of its run's deployment (migration 130).
  const DEPLOYMENT = (c: string) => `t.run_deployment_id IN (SELECT d.id FROM deployment d${c === 'TRUE' ? '' : ` WHERE ${c}`})`;

  it('flows.deployment.is_null_ is about any deployment of the flow', () => {
    expect(versions({ flows: { deployment: { is_null_: true } } }).text).toBe(FLOW('NOT EXISTS (SELECT 1 FROM deployment fd WHERE fd.flow_id = fl.id)'));
    expect(versions({ flows: { deployment: { is_null_: false } } }).text).toBe(FLOW('EXISTS (SELECT 1 FROM deployment fd WHERE fd.flow_id = fl.id)'));
  });

  it('flow_or_deployment_name matches either name with one pattern', () => {
    expect(versions({ deployments: { flow_or_deployment_name: { like_: 'etl' } } })).toEqual({
      text: DEPLOYMENT('(d.name ILIKE $1::text OR EXISTS (SELECT 1 FROM flow dfl WHERE dfl.id = d.flow_id AND dfl.name ILIKE $1::text))'),
      values: ['%etl%'],
    });
  });

  it('concurrency_limit is validated but contributes nothing (Q26)', () => {
    expect(versions({ deployments: { concurrency_limit: { ge_: '1', le_: 5, is_null_: false } } }).text).toBe(DEPLOYMENT('TRUE'));
    expect(() => versions({ deployments: { concurrency_limit: { ge_: 'x' } } })).toThrow();
    expect(() => versions({ deployments: { concurrency_limit: { eq_: 1 } } })).toThrow();
  });

  it('paused binds a boolean', () => {
    expect(versions({ deployments: { paused: { eq_: 'yes' } } })).toEqual({ text: DEPLOYMENT('d.paused = $1::boolean'), values: [true] });
  });
});

describe('artifactOrderBy (§6)', () => {
  it.each([
    ['artifact', 'CREATED_DESC', 't.created DESC, t.id DESC'],
    ['artifact', 'UPDATED_DESC', 't.updated DESC, t.id DESC'],
    ['artifact', 'ID_DESC', 't.id DESC'],
    ['artifact', 'KEY_ASC', 't.key ASC, t.id ASC'],
    ['artifact', 'KEY_DESC', 't.key DESC, t.id DESC'],
    ['artifact_collection', 'KEY_ASC', 't.key ASC'],
    ['artifact_collection', 'KEY_DESC', 't.key DESC'],
    ['artifact_collection', 'CREATED_DESC', 't.created DESC, t.id DESC'],
  ] as const)('%s %s', (table, sort, expected) => {
    expect(artifactOrderBy(table, sort, 't')).toBe(expected);
  });
});

describe('strings PostgreSQL cannot store (U+0000)', () => {
  it('match nothing instead of failing the query', () => {
    expect(versions({ artifacts: { key: { any_: ['a\u0000'] } } }).text).toBe('FALSE');
    expect(versions({ artifacts: { key: { any_: ['a\u0000', 'b'] } } })).toEqual({ text: 't.key = $1::text', values: ['b'] });
    expect(versions({ artifacts: { key: { like_: '\u0000' } } }).text).toBe('FALSE');
    expect(versions({ artifacts: { type: { not_any_: ['\u0000'] } } }).text).toBe('t.type IS NOT NULL');
    expect(versions({ flow_runs: { tags: { all_: ['\u0000'], any_: ['\u0000', 'x'] } } }).values).toEqual([['x']]);
  });
});

describe('a page of the latest versions', () => {
  const page = (body: object) => listStatement('artifact_collection', listRequest(ReadLatestArtifactsBody.parse(body), 200)).text;

  it.each([{ flow_runs: { tags: { all_: ['a'] } } }, { flows: { tags: { all_: ['a'] } } }, { flow_runs: { operator: 'or_', tags: { all_: ['a'] }, state: { type: { any_: ['FAILED'] } } } }])(
    'with run filters said on the copies alone %j, reads its rows in one pass',
    (body) => {
      expect(page(body)).toMatch(/^SELECT t\.row_json FROM artifact_collection t WHERE \(t\.run_(flow_)?tags IS NOT NULL AND .* ORDER BY t\.id DESC LIMIT \$\d::bigint$/);
    },
  );

  it.each([{ deployments: { id: { any_: [U1] } } }, { flows: { name: { any_: ['f'] } } }, { flow_runs: { name: { any_: ['r'] } } }, { flow_runs: { tags: { all_: ['a'] } }, offset: 10 }])(
    'with a run subquery or an offset %j, picks its ids first',
    (body) => {
      expect(page(body)).toContain('WHERE t.id = ANY(ARRAY(SELECT t.id FROM artifact_collection t WHERE ');
    },
  );
});

describe("a page of a rare tag: from the copies' GIN index", () => {
  // 100k collection rows; the flows' tags team-0 on 50%, team-2 on 7.5%, team-9 on 2.5%; the runs' tag nightly on 50%.
  const statistics: TagStatistics = tagStatisticsOf([
    ['run_flow_tags', 'team-0', '0.5', '100000'],
    ['run_flow_tags', 'team-2', '0.075', '100000'],
    ['run_flow_tags', 'team-9', '0.025', '100000'],
    ['run_flow_tags', null, '0.025', '100000'],
    ['run_tags', 'nightly', '0.5', '100000'],
  ]);
  const share = (body: object) => requiredTagShare(ReadLatestArtifactsBody.parse(body), statistics);
  const page = (body: object, tagStatistics: TagStatistics | null = statistics) =>
    listStatement('artifact_collection', { ...listRequest(ReadLatestArtifactsBody.parse(body), 200), tagStatistics: tagStatistics ?? undefined }).text;
  const FENCED = /FROM \(SELECT \* FROM artifact_collection t WHERE .* OFFSET 0\) t ORDER BY/;

  it('reads the statistics, skipping the figures of no tag', () => {
    expect(statistics.rows).toBe(100_000);
    expect([...statistics.copies.get('run_flow_tags')!.keys()]).toEqual(['team-0', 'team-2', 'team-9']);
    expect(tagStatisticsOf([['run_tags', null, null, '10']]).copies.get('run_tags')!.size).toBe(0);
  });

  it.each([
    [{ flows: { tags: { all_: ['team-9'] } } }, 0.025],
    [{ flows: { tags: { all_: ['team-0', 'team-2'] } } }, 0.075],
    // Unlisted: on fewer rows than the least common listed tag.
    [{ flows: { tags: { all_: ['team-77'] } } }, 0.025],
    [{ flows: { tags: { all_: ['team-0'] } }, flow_runs: { tags: { all_: ['nightly'] } } }, 0.5],
    [{ flows: { operator: 'or_', tags: { all_: ['team-9'] } } }, 0.025],
    [{ flows: { tags: { all_: ['team-9'] } }, artifacts: { type: { any_: ['table'] } } }, 0.025],
  ])('%j keeps at most a share of %d', (body, expected) => {
    expect(share(body)).toBe(expected);
  });

  it.each([
    [{}],
    [{ flows: { tags: { all_: [] } } }],
    [{ flows: { tags: { operator: 'or_', all_: ['team-9'], is_null_: false } } }],
    [{ flows: { operator: 'or_', tags: { all_: ['team-9'] }, name: { any_: ['f'] } } }],
    // The flow filter is then a subquery, not said on the copy.
    [{ flows: { tags: { all_: ['team-9'] }, name: { any_: ['f'] } } }],
    [{ flow_runs: { tags: { any_: ['nightly'] } } }],
    [{ flow_runs: { tags: { all_: ['nightly'] }, name: { any_: ['r'] } } }],
  ])('%j requires no tag of a copy', (body) => {
    expect(share(body)).toBeUndefined();
  });

  it('a copy without statistics tells nothing', () => {
    expect(requiredTagShare(ReadLatestArtifactsBody.parse({ flow_runs: { tags: { all_: ['nightly'] } } }), { rows: 100_000, copies: new Map() })).toBeUndefined();
  });

  it('pages a tag whose matches are fewer than the walk would read from the index, any other in its order', () => {
    // team-9: 2,500 matches against 8,000 rows walked; team-2: 7,500 against 2,667.
    expect(page({ flows: { tags: { all_: ['team-9'] } } })).toMatch(FENCED);
    expect(page({ flows: { tags: { all_: ['team-9'] } }, sort: 'KEY_ASC' })).toMatch(FENCED);
    expect(page({ flows: { tags: { all_: ['team-2'] } } })).toMatch(/^SELECT t\.row_json FROM artifact_collection t WHERE /);
    // A deep page would walk (limit + offset) / share rows: 10,200 / 0.075 = 136,000 against 7,500.
    expect(page({ flows: { tags: { all_: ['team-2'] } }, offset: 10_000 })).toContain('ANY(ARRAY(SELECT t.id FROM (SELECT * FROM artifact_collection t WHERE ');
    expect(page({ flows: { tags: { all_: ['team-9'] } } }, null)).not.toMatch(FENCED);
    expect(page({ flows: { tags: { all_: ['team-9'] } }, limit: 10 })).not.toMatch(FENCED);
  });
});

describe("a page of every version: the copy of its run's deployment (migrations 130 and 160)", () => {
  const page = (body: object) => listStatement('artifact', listRequest(ReadArtifactsBody.parse(body), 200));
  const DEPLOYMENT_RUN = 'EXISTS (SELECT 1 FROM flow_run fr JOIN deployment d ON d.id = fr.deployment_id WHERE fr.id = t.flow_run_id AND d.id = $2::uuid)';

  it('a deployment filter alone is said on the copy, read in one pass on a first page, ids first on a later one', () => {
    const body = { deployments: { id: { any_: [U1] } }, sort: 'UPDATED_DESC' };
    expect(page(body)).toMatchObject({ values: [U1, 200] });
    expect(page(body).text).toMatch(
      /^SELECT '\{"id":' .* FROM artifact t WHERE \(t\.run_deployment_id = \$1::uuid AND EXISTS \(SELECT 1 FROM deployment x WHERE x\.id = t\.run_deployment_id\)\) ORDER BY t\.updated DESC, t\.id DESC LIMIT \$2::bigint$/,
    );
    expect(page({ ...body, offset: 10 }).text).toContain('WHERE t.id = ANY(ARRAY(SELECT t.id FROM artifact t WHERE (t.run_deployment_id = $1::uuid AND EXISTS (SELECT 1 FROM deployment x ');
  });

  it("in CREATED_DESC order, one deployment's value is hidden from the planner, which then reads the deployment's index range", () => {
    const hidden = '(t.run_deployment_id = (SELECT $1::uuid) AND EXISTS (SELECT 1 FROM deployment x WHERE x.id = t.run_deployment_id))';
    expect(page({ deployments: { id: { any_: [U1] } }, sort: 'CREATED_DESC' }).text).toContain(` FROM artifact t WHERE ${hidden} ORDER BY t.created DESC, t.id DESC LIMIT $2::bigint`);
    expect(page({ deployments: { id: { any_: [U1] } }, sort: 'CREATED_DESC', offset: 10 }).text).toContain(`(SELECT t.id FROM artifact t WHERE ${hidden} ORDER BY`);
    expect(page({ flow_runs: { deployment_id: { any_: [U1] } }, sort: 'CREATED_DESC' }).text).toContain(' WHERE t.run_deployment_id = (SELECT $1::uuid) ORDER BY');
    // Several deployments, another order, a count, another filter beside it: the planner sees the values.
    for (const beside of [{ artifacts: { key: { like_: 'abc' } } }, { task_runs: {} }]) {
      expect(page({ ...beside, deployments: { id: { any_: [U1] } }, sort: 'CREATED_DESC' }).text).toMatch(/t\.run_deployment_id = \$\d::uuid AND EXISTS/);
    }
    expect(page({ deployments: { id: { any_: [U1, U1] } }, sort: 'CREATED_DESC' }).text).toContain('t.run_deployment_id = ANY($1::uuid[])');
    expect(page({ deployments: { id: { any_: [U1] } } }).text).toContain('t.run_deployment_id = $1::uuid');
    expect(countStatement('artifact', CountArtifactsBody.parse({ deployments: { id: { any_: [U1] } } })).text).toContain('t.run_deployment_id = $1::uuid');
  });

  it('with a flow filter beside it, the copy is tested before the run EXISTS, which still decides', () => {
    const { text, values } = page({ deployments: { id: { any_: [U1] } }, flows: { name: { any_: ['f'] } } });
    expect(text).toContain(` FROM artifact t WHERE (t.run_deployment_id = $1::uuid AND ${DEPLOYMENT_RUN.replace('JOIN deployment d', 'JOIN flow fl ON fl.id = fr.flow_id JOIN deployment d').replace('AND d.id = $2::uuid', 'AND fl.name = $2::text AND d.id = $3::uuid')}) ORDER BY`);
    expect(values.slice(0, 3)).toEqual([U1, 'f', U1]);
  });

  it.each([
    { flows: { id: { any_: [U1] } } },
    { flow_runs: { state: { type: { any_: ['FAILED'] } } } },
    { deployments: { operator: 'or_', id: { any_: [U1] } }, flows: { operator: 'or_', id: { any_: [U1] } } },
  ])('not for what the copy does not say: %j', (body) => {
    expect(page(body).text).not.toContain('run_deployment_id');
  });

  it('a count of a deployment reads the copy too', () => {
    expect(countStatement('artifact', CountArtifactsBody.parse({ deployments: { id: { any_: [U1] } } })).text).toBe(
      'SELECT count(*)::text FROM artifact t WHERE (t.run_deployment_id = $1::uuid AND EXISTS (SELECT 1 FROM deployment x WHERE x.id = t.run_deployment_id))',
    );
  });
});
