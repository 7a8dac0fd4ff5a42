import fc from 'fast-check';
import { ParseFailure, schemaPayload } from './cloudevents';
import { JsonObject, parseJson, stringifyJson } from './json';
import { fastPayload, fastPayloadFields, payloadFields } from './payloads';
import { EventType } from './topics';

// The decoder tries the hand-written fast path first and asks the zod schema only
// when it declines. So the fast path must never accept what the schema refuses, and
// must return exactly what the schema returns (values and key order).

const ID = '6F9619FF8B864D01B42D00C04FC964FF';
const T = '2024-06-01T12:00:01.1234567+02:00';

const SAMPLES: { [K in EventType]: Record<string, unknown> } = {
  'prefect.artifact.created': { id: ID, key: 'k', type: 't', description: 'd', data: { b: [1, 1.5, null], a: 'x' }, metadata_: { m: 'v', z: 'w'.repeat(600) }, flow_run_id: ID, task_run_id: null, created: T },
  'prefect.artifact.updated': { id: ID, key: 'k', updated: T, data: null, description: null, metadata_: null },
  'prefect.artifact.deleted': { id: ID, updated: T },
  'prefect.flow.upserted': { id: ID, name: 'f', tags: ['a'], created: null, updated: T },
  'prefect.flow.deleted': { id: ID, updated: T },
  'prefect.deployment.upserted': { id: ID, flow_id: ID, name: 'd', work_queue_name: 'q', paused: false, concurrency_limit: 5, updated: T },
  'prefect.deployment.deleted': { id: ID, updated: T },
  'prefect.flow-run.upserted': {
    id: ID,
    name: 'r',
    tags: [],
    state: { type: 'RUNNING', name: 'Running', extra: 1 },
    created_by: { id: ID, type: 'USER' },
    start_time: T,
    updated: T,
  },
  'prefect.flow-run.deleted': { id: ID, updated: T },
  'prefect.task-run.upserted': { id: ID, flow_run_id: ID, name: 't', tags: null, state_type: 'COMPLETED', state: null, updated: T },
  'prefect.task-run.deleted': { id: ID, updated: T },
};
const TYPES = Object.keys(SAMPLES) as EventType[];

const tree = (data: Record<string, unknown>) => parseJson(stringifyJson(data)) as JsonObject;

/** Deep equality that also compares the order of object keys. */
function expectSame(actual: unknown, expected: unknown): void {
  expect(actual).toStrictEqual(expected);
  if (actual !== null && typeof actual === 'object' && !Array.isArray(actual)) {
    expect(Object.keys(actual)).toEqual(Object.keys(expected as object));
    for (const k of Object.keys(actual)) expectSame((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]);
  }
}

function agree(type: EventType, data: Record<string, unknown>): boolean {
  const fast = fastPayload(type, tree(data));
  const schema = schemaPayload(type, tree(data));
  if (fast === undefined) return false;
  if (schema instanceof ParseFailure) throw new Error(`fast path accepted what the schema refuses: ${schema.message}`);
  expectSame(fast, schema);
  return true;
}

describe('fastPayload: the decoder fast path agrees with the zod schemas', () => {
  it('reads the same fields as the schemas', () => {
    for (const type of TYPES) expect(fastPayloadFields(type)).toEqual(payloadFields[type]);
  });

  it.each(TYPES)('%s: accepts a valid payload and returns what the schema returns', (type) => {
    expect(agree(type, SAMPLES[type])).toBe(true);
    expect(agree(type, { id: ID, updated: T, created: T, name: 'n' })).toBe(true);
  });

  const EDGE_VALUES: unknown[] = [
    ...['', '\u0000', 'x\u0000', 'not-a-uuid', ID.toLowerCase(), `{${ID.slice(0, 8)}-${ID.slice(8, 12)}-${ID.slice(12, 16)}-${ID.slice(16, 20)}-${ID.slice(20)}}`, `urn:uuid:${ID}`],
    ...['2024-13-01T00:00:00Z', '0001-01-01T00:30:00+01:00', '9999-12-31T23:59:59-00:01', '2024-02-29 23:59:59.5-00:30', T, '2024-06-01T10:00:01', 'UPPER', 'a-b-0', '🦀'],
    ...[2 ** 31, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31) - 1, -1.5, 1e308, 7, -0, true, false, null, [], {}, [null], ['a', 'b'], ['a', 1], ['x\u0000']],
    ...[{ type: 7 }, { type: 'X' }, { name: null }, { id: ID }, { id: 'x' }, { display_value: 'me', other: [1] }, { m: 'v' }, { m: 1 }, { m: null }],
  ];

  it.each(TYPES)('%s: every edge value in every field (and every field absent): the fast path declines or returns what the schema returns', (type) => {
    for (const field of payloadFields[type]) {
      const without: Record<string, unknown> = { ...SAMPLES[type] };
      delete without[field];
      agree(type, without);
      for (const v of EDGE_VALUES) agree(type, { ...SAMPLES[type], [field]: v });
    }
  });

  it('any JSON value in any field: the fast path declines or returns what the schema returns', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), fc.nat(), fc.jsonValue({ maxDepth: 3 }), (type, fieldIndex, v) => {
        const fields = payloadFields[type];
        const field = fields[fieldIndex % fields.length]!;
        agree(type, { ...SAMPLES[type], [field]: v });
      }),
      { numRuns: 3000 },
    );
  });
});
