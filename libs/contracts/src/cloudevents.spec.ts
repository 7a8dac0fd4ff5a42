import fc from 'fast-check';
import { DecodeResult, decodeMessage, KafkaMessageLike } from './cloudevents';
import { encodeEvent, messageKey } from './encode';
import { rawJson } from './json';
import { ID, RUN, SAMPLES, T } from './testing/samples';
import { ARTIFACT_EVENT_TYPES, RUN_EVENT_TYPES } from './topics';

const artifact = (extra: Record<string, unknown> = {}) => ({ id: ID, key: 'daily-report', created: T, ...extra });

function structured(type: string, data: unknown, extra: Record<string, unknown> = {}): KafkaMessageLike {
  return {
    key: null,
    value: Buffer.from(JSON.stringify({ specversion: '1.0', id: 'e-1', source: '/prefect/server', type, time: T, data, ...extra })),
    headers: {},
  };
}

function failure(result: DecodeResult) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.event)}`);
  return result;
}

function success(result: DecodeResult) {
  if (!result.ok) throw new Error(`expected success, got ${result.reason}: ${result.message}`);
  return result.event;
}

describe('decodeMessage: both CloudEvents Kafka bindings', () => {
  const types = [...ARTIFACT_EVENT_TYPES, ...RUN_EVENT_TYPES];

  it.each(types.flatMap((type) => (['structured', 'binary'] as const).map((mode) => [type, mode] as const)))('%s in %s mode', (type, mode) => {
    const message = encodeEvent(type, SAMPLES[type] as never, { mode, id: 'evt-42', source: '/prefect/eu', time: '2024-06-01T12:00:01+02:00' });
    const event = success(decodeMessage(message, ARTIFACT_EVENT_TYPES.includes(type as never) ? 'artifacts' : 'runs'));
    expect(event).toMatchObject({ id: 'evt-42', source: '/prefect/eu', time: '2024-06-01T10:00:01.000000Z', subject: ID, type });
    expect(event.data).toMatchObject({ id: ID });
  });

  it('structured mode also works without a content-type header, and with parameters on it', () => {
    const bare = structured('prefect.flow.deleted', { id: ID, updated: T });
    expect(success(decodeMessage(bare)).type).toBe('prefect.flow.deleted');
    const withCharset = { ...bare, headers: { 'Content-Type': 'application/cloudevents+json; charset=utf-8' } };
    expect(success(decodeMessage(withCharset)).type).toBe('prefect.flow.deleted');
  });

  it('binary mode reads Buffer headers, repeated headers (last wins) and an optional subject', () => {
    const message: KafkaMessageLike = {
      key: Buffer.from(ID),
      value: Buffer.from(JSON.stringify({ id: ID, updated: T })),
      headers: {
        ce_specversion: Buffer.from('1.0'),
        ce_id: [Buffer.from('old'), Buffer.from('evt-7')],
        ce_source: '/prefect',
        ce_type: Buffer.from('prefect.task-run.deleted'),
        ce_time: T,
        'content-type': Buffer.from('application/json'),
        unrelated: undefined,
      },
    };
    expect(success(decodeMessage(message, 'runs'))).toMatchObject({ id: 'evt-7', subject: null, type: 'prefect.task-run.deleted' });
  });

  it('ignores unknown CloudEvent attributes and unknown payload fields', () => {
    const event = success(decodeMessage(structured('prefect.flow.upserted', { id: ID, name: 'f', updated: T, future: { x: 1 } }, { traceparent: '00-abc', partitionkey: 'x' })));
    expect(event.data).toEqual({ id: ID, name: 'f', tags: [], created: null, updated: T });
  });
});

describe('decodeMessage: payload normalisation', () => {
  const created = (data: Record<string, unknown>) => success(decodeMessage(structured('prefect.artifact.created', data))).data as unknown as Record<string, unknown>;

  it('normalises UUIDs and datetimes, defaults updated to created and absent fields to null', () => {
    expect(created({ id: ID.toUpperCase().replace(/-/g, ''), created: '2024-06-01T12:00:01.1234567+02:00', task_run_id: `{${RUN}}` })).toEqual({
      id: ID,
      key: null,
      type: null,
      description: null,
      data: null,
      metadata_: null,
      flow_run_id: null,
      task_run_id: RUN,
      created: '2024-06-01T10:00:01.123456Z',
      updated: '2024-06-01T10:00:01.123456Z',
    });
  });

  it('keeps data exactly as Prefect would return it (number fidelity, key order, NaN → null)', () => {
    const message = encodeEvent('prefect.artifact.created', {
      ...artifact(),
      data: rawJson('{"z":1,"a":1.0,"2":1e2,"1":[1.50,-0.0,-0,12345678901234567890123456789,1e16,1.5e-5,NaN,Infinity,-Infinity,1e400],"d":{"x":1,"x":2},"s":"caf\\u00e9"}'),
    });
    expect(success(decodeMessage(message)).data).toMatchObject({
      data: '{"z":1,"a":1.0,"2":100.0,"1":[1.5,-0.0,0,12345678901234567890123456789,1e+16,0.000015,null,null,null,null],"d":{"x":2},"s":"café"}',
    });
  });

  it('stores JSON null data as null and a JSON string as its JSON text', () => {
    expect(created(artifact({ data: null })).data).toBeNull();
    expect(created(artifact({ data: 'plain' })).data).toBe('"plain"');
  });

  it('cuts metadata values longer than 500 characters and keeps key order', () => {
    const meta = created(artifact({ metadata_: { z: 'x'.repeat(501), a: 'short' } })).metadata_;
    expect(meta).toBe(`{"z":"${'x'.repeat(500)}...","a":"short"}`);
  });

  it('accepts the empty key (Prefect does) and keys with leading/trailing dashes', () => {
    expect(created(artifact({ key: '' })).key).toBe('');
    expect(created(artifact({ key: '-a-' })).key).toBe('-a-');
  });

  it('keeps the presence of updated fields: absent stays absent, null is null', () => {
    const data = success(decodeMessage(structured('prefect.artifact.updated', { id: ID, updated: T, description: null, metadata_: { b: '1', a: '2' } }))).data;
    expect(data).toEqual({ id: ID, key: null, updated: T, description: null, metadata_: '{"b":"1","a":"2"}' });
    expect('data' in data).toBe(false);
  });

  it('takes the run state from state_type/state_name or from a state object; tags, paused and created_by get defaults', () => {
    const run = success(decodeMessage(structured('prefect.flow-run.upserted', { id: ID, name: 'r', updated: T, state: { type: 'COMPLETED', name: 'Completed', id: 'x' }, created_by: { id: RUN.toUpperCase(), type: 'USER', extra: 1 } })));
    expect(run.data).toMatchObject({ state_type: 'COMPLETED', state_name: 'Completed', tags: [], created_by: { id: RUN, type: 'USER', display_value: null } });
    const deployment = success(decodeMessage(structured('prefect.deployment.upserted', { id: ID, name: 'd', updated: T, concurrency_limit: 5.0 })));
    expect(deployment.data).toMatchObject({ paused: false, concurrency_limit: 5, tags: [], flow_id: null });
  });
});

describe('decodeMessage: poison messages are classified, never thrown', () => {
  it.each([
    ['malformed JSON', { value: Buffer.from('{"specversion":"1.0",') }, 'invalid_json'],
    ['empty value', { value: null }, 'invalid_json'],
    ['invalid UTF-8', { value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, 'invalid_json'],
    ['binary data that is not JSON', { value: Buffer.from('nope'), headers: { ce_specversion: '1.0', ce_id: '1', ce_source: 's', ce_type: 'prefect.flow.deleted', ce_time: T } }, 'invalid_json'],
    ['a JSON array', { value: Buffer.from('[1,2]') }, 'not_cloudevent'],
    ['an object without specversion', { value: Buffer.from('{"id":"1"}') }, 'not_cloudevent'],
    ['specversion 0.3', structured('prefect.flow.deleted', {}, { specversion: '0.3' }), 'not_cloudevent'],
    ['missing id', structured('prefect.flow.deleted', {}, { id: undefined }), 'not_cloudevent'],
    ['numeric source', structured('prefect.flow.deleted', {}, { source: 7 }), 'not_cloudevent'],
    ['bad time attribute', structured('prefect.flow.deleted', {}, { time: 'yesterday' }), 'not_cloudevent'],
    ['text/plain without ce headers', { value: Buffer.from('{}'), headers: { 'content-type': 'text/plain' } }, 'not_cloudevent'],
    ['a CloudEvents batch', { value: Buffer.from('[]'), headers: { 'content-type': 'application/cloudevents-batch+json' } }, 'not_cloudevent'],
    ['unknown type', structured('prefect.artifact.created.v2', artifact()), 'unknown_type'],
  ] as const)('%s → %s', (_, message, reason) => {
    expect(failure(decodeMessage(message as KafkaMessageLike)).reason).toBe(reason);
  });

  it.each([
    ['bad uuid', { id: 'not-a-uuid' }, /id: invalid uuid "not-a-uuid"/],
    ['bad run uuid', { flow_run_id: '1234' }, /flow_run_id: invalid uuid/],
    ['bad datetime', { created: '2024-06-01 10:00' }, /created: invalid datetime/],
    ['datetime without offset', { created: '2024-06-01T10:00:00' }, /created: invalid datetime/],
    ['year 0', { created: '0000-06-01T10:00:00Z' }, /created: invalid datetime/],
    ['non-string metadata value', { metadata_: { rows: 5 } }, /metadata_\.rows: metadata value must be a string/],
    ['metadata not an object', { metadata_: ['a'] }, /metadata_: must be an object/],
    ['uppercase key', { key: 'Daily-Report' }, /key: Artifact key must only contain lowercase letters, numbers, and dashes/],
    ['key with a slash', { key: 'a/b' }, /key: Artifact key/],
    ['missing created', { created: undefined }, /created: required/],
    ['NUL in description', { description: 'a\u0000b' }, /description: must not contain NUL/],
    ['description not a string', { description: 5 }, /description: Invalid input: expected string/],
  ])('%s → invalid_payload naming the field', (_, patch, message) => {
    const result = failure(decodeMessage(structured('prefect.artifact.created', artifact(patch), {}), 'artifacts'));
    expect(result).toMatchObject({ reason: 'invalid_payload', type: 'prefect.artifact.created' });
    expect(result.message).toMatch(message);
  });

  it.each([
    ['prefect.flow.upserted', { id: ID, updated: T }, /name: required/],
    ['prefect.flow-run.upserted', { id: ID, name: 'r' }, /updated: required/],
    ['prefect.deployment.upserted', { id: ID, name: 'd', updated: T, concurrency_limit: 1.5 }, /concurrency_limit: must be an integer/],
    ['prefect.deployment.upserted', { id: ID, name: 'd', updated: T, concurrency_limit: 2 ** 31 }, /concurrency_limit/],
    ['prefect.task-run.upserted', { id: ID, name: 't', updated: T, tags: ['ok', 1] }, /tags\.1/],
    ['prefect.flow-run.upserted', { id: ID, name: 'r', updated: T, created_by: { type: 'x\u0000' } }, /created_by\.type: must not contain NUL/],
    ['prefect.artifact.updated', { id: ID }, /updated: required/],
    ['prefect.artifact.deleted', { key: 'k' }, /id: required/],
  ])('%s %j → invalid_payload', (type, data, message) => {
    const result = failure(decodeMessage(structured(type, data)));
    expect(result.reason).toBe('invalid_payload');
    expect(result.message).toMatch(message);
  });

  it('data that is missing, not an object, or base64 → invalid_payload', () => {
    expect(failure(decodeMessage(structured('prefect.flow.deleted', undefined))).message).toMatch(/data: required/);
    expect(failure(decodeMessage(structured('prefect.flow.deleted', [1]))).message).toMatch(/data: must be a JSON object/);
    expect(failure(decodeMessage(structured('prefect.flow.deleted', undefined, { data_base64: 'e30=' }))).reason).toBe('invalid_payload');
    const binary = encodeEvent('prefect.flow.deleted', { id: ID, updated: T }, { mode: 'binary' });
    expect(failure(decodeMessage({ ...binary, value: null })).reason).toBe('invalid_payload');
  });

  it('an artifact event on the runs topic, or a run event on the artifacts topic → wrong_topic', () => {
    expect(failure(decodeMessage(encodeEvent('prefect.artifact.deleted', { id: ID }), 'runs')).reason).toBe('wrong_topic');
    expect(failure(decodeMessage(encodeEvent('prefect.flow.deleted', { id: ID, updated: T }), 'artifacts')).reason).toBe('wrong_topic');
  });

  it('a 900 KB payload of the wrong shape → invalid_payload', () => {
    const big = structured('prefect.artifact.created', { id: ID, created: T, metadata_: { blob: 'x'.repeat(900_000), n: 1 } });
    expect(failure(decodeMessage(big)).message).toMatch(/metadata_\.n/);
  });

  // Speed is the benchmark's business (libs/contracts/bench); here only correctness.
  it('a 10 MB valid value decodes', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => [i, i + 0.5, `row-${i}`]);
    const message = encodeEvent('prefect.artifact.created', artifact({ data: { rows } }) as never);
    expect(message.value.length).toBeGreaterThan(5_000_000);
    expect(success(decodeMessage(message)).type).toBe('prefect.artifact.created');
  });

  it('10,000 levels of nesting → invalid_json, no stack overflow', () => {
    const deep = `{"specversion":"1.0","id":"1","source":"s","type":"prefect.artifact.created","time":"${T}","data":{"id":"${ID}","created":"${T}","data":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    expect(failure(decodeMessage({ value: Buffer.from(deep) }))).toMatchObject({ reason: 'invalid_json', message: expect.stringMatching(/nesting deeper than 512/) });
  });

  it('random bytes, random headers and every truncation of a valid event never throw', () => {
    const valid = encodeEvent('prefect.artifact.created', SAMPLES['prefect.artifact.created'] as never).value;
    for (let cut = 0; cut < valid.length; cut++) expect(failure(decodeMessage({ value: valid.subarray(0, cut) })).reason).toBe('invalid_json');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.dictionary(fc.constantFrom('content-type', 'ce_specversion', 'ce_type', 'ce_time', 'ce_id', 'ce_source', 'x'), fc.string()), (bytes, headers) => {
        const result = decodeMessage({ value: Buffer.from(bytes), headers });
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (data) => {
        const result = decodeMessage(structured('prefect.artifact.created', data));
        expect(result.ok || ['invalid_payload'].includes(result.reason)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('encodeEvent / messageKey', () => {
  it('keys artifact events by key when they have one (the empty key included), else by id; run events by id', () => {
    expect(messageKey('prefect.artifact.created', { id: ID, key: 'k' })).toBe('k');
    expect(messageKey('prefect.artifact.created', { id: ID, key: '' })).toBe('');
    expect(messageKey('prefect.artifact.deleted', { id: ID, key: null })).toBe(ID);
    expect(messageKey('prefect.flow-run.upserted', { id: RUN })).toBe(RUN);
    expect(encodeEvent('prefect.artifact.updated', { id: ID, key: 'k', updated: T }).key?.toString()).toBe('k');
  });

  it('builds a structured CloudEvent by default and a binary one on request', () => {
    const s = encodeEvent('prefect.flow.deleted', { id: ID, updated: T }, { id: 'e1' });
    expect(s.headers['content-type']).toBe('application/cloudevents+json');
    expect(JSON.parse(s.value.toString())).toEqual({ specversion: '1.0', id: 'e1', source: '/prefect/server', type: 'prefect.flow.deleted', time: T, subject: ID, datacontenttype: 'application/json', data: { id: ID, updated: T } });
    const b = encodeEvent('prefect.flow.deleted', { id: ID, updated: T }, { id: 'e1', mode: 'binary' });
    expect(b.headers).toEqual({ ce_specversion: '1.0', ce_id: 'e1', ce_source: '/prefect/server', ce_type: 'prefect.flow.deleted', ce_time: T, ce_subject: ID, 'content-type': 'application/json' });
    expect(JSON.parse(b.value.toString())).toEqual({ id: ID, updated: T });
  });
});
