// Hostile producer messages for test/reliability/hostile-events.e2e-spec.ts: every
// way a message can be bad, and a few that decode but that PostgreSQL refuses.

import { randomBytes } from 'node:crypto';
import { EncodedMessage, encodeEvent, EventType, messageKey } from '@app/contracts';
import { payloadFields } from '@app/contracts/payloads';
import { FULL_SAMPLES as SAMPLES, ID, T } from '@app/contracts/testing/samples';
import { prng, Stream } from './workload';

export const EXPECT_HEADER = 'x-reliability-expect';
export const MB = 1024 * 1024;
const WRONG_VALUES: unknown[] = [42, true, 'not-a-valid-value', ['x'], { nested: { wrong: 1 } }, null];

function streamOf(type: string): Stream {
  return type.startsWith('prefect.artifact.') ? 'artifacts' : 'runs';
}

function randomText(random: () => number, length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
  return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
}

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export function hostileMessages(): { label: string; stream: Stream; message: EncodedMessage }[] {
  const random = prng(666);
  const out: { label: string; stream: Stream; message: EncodedMessage }[] = [];
  const raw = (label: string, stream: Stream, value: Buffer | null, headers: Record<string, string> = {}, key: string | null = randomText(random, 8)) =>
    out.push({ label, stream, message: { key: key === null ? null : Buffer.from(key), value: value as Buffer, headers } });
  // Keyed as the contract says (entity id, artifact key), by the entity's real payload
  // (`keyedBy`): a variant that still decodes, such as an update whose `key` was
  // replaced by null, must land in its artifact's partition, or it would race the
  // artifact's other events across partitions, which the contract rules out.
  const structured = (label: string, type: string, data: unknown, envelope: Record<string, unknown> = {}, stream: Stream = streamOf(type), keyedBy: unknown = data) => {
    const event = { specversion: '1.0', id: randomText(random, 12), source: '/hostile', type, time: T, subject: ID, data, ...envelope };
    raw(label, stream, Buffer.from(JSON.stringify(event)), { 'content-type': 'application/cloudevents+json' }, messageKey(type, keyedBy) ?? ID);
  };

  for (let i = 0; i < 20; i++) raw(`random bytes ${i}`, i % 2 ? 'runs' : 'artifacts', randomBytes(1 + Math.floor(random() * 2000)));
  const valid = encodeEvent('prefect.artifact.created', SAMPLES['prefect.artifact.created'] as never).value;
  for (let i = 0; i < 20; i++) raw(`truncated JSON ${i}`, 'artifacts', valid.subarray(0, Math.floor(random() * valid.length)), { 'content-type': 'application/cloudevents+json' });
  raw('empty value', 'artifacts', Buffer.alloc(0));
  raw('null value', 'runs', null);
  raw('10 MB of random bytes', 'artifacts', randomBytes(10 * MB));
  structured('10 MB event with a wrong-typed field', 'prefect.artifact.created', { ...SAMPLES['prefect.artifact.created'], id: '00000000-0000-4000-8000-00000000a001', description: 7, data: 'x'.repeat(10 * MB) });
  structured('10 MB valid event (applied)', 'prefect.artifact.created', { ...SAMPLES['prefect.artifact.created'], id: '00000000-0000-4000-8000-00000000a002', key: 'big', data: 'y'.repeat(10 * MB) });
  raw('300 KB header', 'runs', Buffer.from('{not json'), { 'x-junk': 'h'.repeat(300 * 1024) });
  structured('nesting 600 deep', 'prefect.artifact.created', JSON.parse(`{"id":"${ID}","created":"${T}","data":0}`), {}, 'artifacts');
  out[out.length - 1]!.message.value = Buffer.from(out[out.length - 1]!.message.value.toString().replace('"data":0', `"data":${nested(600)}`));
  structured('nesting 490 deep (valid, applied)', 'prefect.artifact.created', { ...SAMPLES['prefect.artifact.created'], id: '00000000-0000-4000-8000-00000000a003', key: 'deep', data: 0 });
  out[out.length - 1]!.message.value = Buffer.from(out[out.length - 1]!.message.value.toString().replace('"data":0', `"data":${nested(490)}`));
  structured('nesting 100,000 deep', 'prefect.flow.upserted', { id: ID, name: 'deep', updated: T });
  out[out.length - 1]!.message.value = Buffer.from(out[out.length - 1]!.message.value.toString().replace('"name":"deep"', `"name":${'['.repeat(100_000)}${']'.repeat(100_000)}`));
  structured('unknown type', 'prefect.artifact.created.v2', SAMPLES['prefect.artifact.created']);
  structured('run event on the artifacts topic', 'prefect.flow.deleted', SAMPLES['prefect.flow.deleted'], {}, 'artifacts');
  structured('artifact event on the runs topic', 'prefect.artifact.deleted', SAMPLES['prefect.artifact.deleted'], {}, 'runs');
  structured('data not an object', 'prefect.flow.deleted', [1, 2]);
  structured('no data', 'prefect.flow.deleted', undefined);
  for (const [attribute, value] of [
    ['specversion', 1],
    ['specversion', '0.3'],
    ['id', {}],
    ['id', ''],
    ['source', []],
    ['type', 5],
    ['time', 'never'],
    ['time', 1700000000],
    ['subject', 9],
    ['datacontenttype', 'text/xml'],
  ] as const) {
    structured(`envelope ${attribute} = ${JSON.stringify(value)}`, 'prefect.flow.deleted', SAMPLES['prefect.flow.deleted'], { [attribute]: value });
  }
  raw('binary mode, garbage ce_time', 'runs', Buffer.from(JSON.stringify(SAMPLES['prefect.flow.deleted'])), {
    ce_specversion: '1.0',
    ce_id: 'x',
    ce_source: '/s',
    ce_type: 'prefect.flow.deleted',
    ce_time: 'soon',
    'content-type': 'application/json',
  });
  // A wrong type in every field of every event type (the decoder's unit specs pin the messages; here the pipeline must cope).
  for (const [type, sample] of Object.entries(SAMPLES)) {
    for (const field of payloadFields[type as EventType]) {
      const wrong = WRONG_VALUES[Math.floor(random() * WRONG_VALUES.length)];
      structured(`${type}.${field} = ${JSON.stringify(wrong)}`, type, { ...sample, [field]: wrong }, {}, streamOf(type), sample);
    }
  }
  // Decodable, but PostgreSQL refuses them: the value is too long for a btree index entry.
  const rejected = (label: string, type: EventType, data: Record<string, unknown>) => {
    const message = encodeEvent(type, data as never, { headers: { [EXPECT_HEADER]: 'rejected_by_database' } });
    out.push({ label, stream: streamOf(type), message });
  };
  rejected('flow run named with 12,000 random characters', 'prefect.flow-run.upserted', { ...SAMPLES['prefect.flow-run.upserted'], id: '00000000-0000-4000-8000-00000000b001', name: randomText(random, 12_000, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') });
  rejected('artifact key of 12,000 random characters', 'prefect.artifact.created', { ...SAMPLES['prefect.artifact.created'], id: '00000000-0000-4000-8000-00000000b002', key: randomText(random, 12_000) });
  rejected('deployment work queue of 12,000 random characters', 'prefect.deployment.upserted', { ...SAMPLES['prefect.deployment.upserted'], id: '00000000-0000-4000-8000-00000000b003', work_queue_name: randomText(random, 12_000, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') });
  return out;
}
