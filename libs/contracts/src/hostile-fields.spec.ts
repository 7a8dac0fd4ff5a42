import fc from 'fast-check';
import { decodeMessage, DECODE_FAILURE_REASONS } from './cloudevents';
import { encodeEvent } from './encode';
import { payloadFields } from './payloads';
import { FULL_SAMPLES as SAMPLES } from './testing/samples';
import { EventType } from './topics';

// Issue #6, hostile events at the unit level: any field of any event type replaced by
// any JSON value, in either binding. The decoder must never throw, and whatever it
// accepts must be store-ready (the shapes the projections bind to SQL parameters), so
// that a wrong type can only end in the dead-letter topic, never in a failing batch.
// (test/reliability/hostile-events.e2e-spec.ts sends such messages through Kafka.)

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const text = (v: unknown) => typeof v === 'string' && !v.includes('\0');
const nullable = (check: (v: unknown) => boolean) => (v: unknown) => v === null || check(v);
const uuid = (v: unknown) => typeof v === 'string' && UUID.test(v);
const instant = (v: unknown) => typeof v === 'string' && INSTANT.test(v);
const jsonText = (v: unknown) => {
  if (typeof v !== 'string') return false;
  JSON.parse(v);
  return true;
};

/** What each decoded field may hold; a field not listed must not appear. */
const STORE_READY: Record<string, (v: unknown) => boolean> = {
  id: uuid,
  key: nullable((v) => typeof v === 'string' && /^[a-z0-9-]*$/.test(v)),
  type: nullable(text),
  description: nullable(text),
  data: nullable(jsonText),
  metadata_: nullable((v) => jsonText(v) && typeof JSON.parse(v as string) === 'object' && Object.values(JSON.parse(v as string) as object).every((x) => typeof x === 'string')),
  flow_run_id: nullable(uuid),
  task_run_id: nullable(uuid),
  flow_id: nullable(uuid),
  deployment_id: nullable(uuid),
  parent_task_run_id: nullable(uuid),
  created: nullable(instant),
  updated: nullable(instant),
  start_time: nullable(instant),
  end_time: nullable(instant),
  expected_start_time: nullable(instant),
  next_scheduled_start_time: nullable(instant),
  name: text,
  tags: (v) => Array.isArray(v) && v.every(text),
  work_queue_name: nullable(text),
  paused: (v) => typeof v === 'boolean',
  concurrency_limit: nullable((v) => Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31),
  state_type: nullable(text),
  state_name: nullable(text),
  flow_version: nullable(text),
  idempotency_key: nullable(text),
  task_key: nullable(text),
  dynamic_key: nullable(text),
  created_by: nullable((v) => {
    const by = v as Record<string, unknown>;
    return typeof v === 'object' && Object.keys(by).sort().join() === 'display_value,id,type' && nullable(uuid)(by.id) && nullable(text)(by.type) && nullable(text)(by.display_value);
  }),
};

const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('', '\u0000', 'not-a-uuid', '2024-13-01T00:00:00Z', '0000-01-01T00:00:00Z', 'UPPER', '🦀', 2 ** 31, -1.5, 1e308, [], {}, [null], { type: 7 }),
);

describe('decodeMessage: a hostile value in any field of any event type', () => {
  it('never throws, fails only with a known reason, and decodes only store-ready payloads', () => {
    const types = Object.keys(SAMPLES) as EventType[];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.nat(), hostileValue, fc.boolean(), (type, fieldIndex, value, binary) => {
        const fields = payloadFields[type];
        const field = fields[fieldIndex % fields.length]!;
        const data = { ...SAMPLES[type], [field]: value };
        const result = decodeMessage(encodeEvent(type, data, { mode: binary ? 'binary' : 'structured' }), type.startsWith('prefect.artifact.') ? 'artifacts' : 'runs');
        if (!result.ok) {
          expect(DECODE_FAILURE_REASONS).toContain(result.reason);
          return;
        }
        for (const [name, decoded] of Object.entries(result.event.data as unknown as Record<string, unknown>)) {
          const check = STORE_READY[name];
          if (!check) throw new Error(`${type}: unexpected decoded field ${name}`);
          if (!check(decoded)) throw new Error(`${type}.${field} = ${JSON.stringify(value)} decoded to ${name} = ${JSON.stringify(decoded)}`);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
