import { DEAD_LETTER_REASONS, decodeMessage } from '@app/contracts';
import { CliError, parseArgs, readEnv, resolveTopics } from './cli';
import { describe as describeMessage, describeJsonLine, MessageView, renderValue } from './describe';
import { formatLag, lagRows } from './lag';
import { formatSummary, LineDefaults, parseLine } from './publish';
import { renderProgress } from './progress';
import { formatReplay, parseReasonFilter, replayMessage, UNREPLAYABLE_REASONS } from './replay-dlq';
import { formatTailMessage, matches, parseSince, parseStart } from './tail';

const ID = '6f9619ff-8b86-4d01-b42d-00c04fc964ff';
const T = '2026-11-28T10:00:00Z';
const defaults: LineDefaults = { topics: { artifacts: 'a', runs: 'r' }, validate: true };

describe('events CLI: options and environment', () => {
  it('parses flags, values (both spellings), stdin and --', () => {
    expect(parseArgs(['-', '--max', '3', '--topic=runs', '--dlq', '--', '--x'], { max: 'number', topic: 'string', dlq: 'flag' })).toEqual({
      positional: ['-', '--x'],
      options: { max: 3, topic: 'runs', dlq: true },
    });
  });

  it.each([
    [['--nope'], /unknown option --nope/],
    [['--max'], /--max needs a value/],
    [['--max', 'x'], /non-negative number/],
    [['--dlq=1'], /takes no value/],
  ])('%j is a usage error (exit 2)', (argv, message) => {
    let error: unknown;
    try {
      parseArgs(argv, { max: 'number', dlq: 'flag' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe(2);
    expect((error as CliError).message).toMatch(message);
  });

  it('reads the apps variables with their defaults and resolves topic aliases', () => {
    const env = readEnv({});
    expect(env).toMatchObject({ brokers: ['127.0.0.1:9092'], artifactTopic: 'prefect.artifacts', runTopic: 'prefect.runs', ingestUrl: 'http://127.0.0.1:4201', security: { ssl: false } });
    const custom = readEnv({ KAFKA_BROKERS: 'k1:9092, k2:9093', ARTIFACT_TOPIC: 'x.a', RUN_TOPIC: 'x.r', INGEST_URL: 'http://h:1/' });
    expect(custom).toMatchObject({ brokers: ['k1:9092', 'k2:9093'], ingestUrl: 'http://h:1' });
    expect(resolveTopics(custom, undefined)).toEqual(['x.a', 'x.r']);
    expect(resolveTopics(custom, 'artifacts')).toEqual(['x.a']);
    expect(resolveTopics(custom, 'runs')).toEqual(['x.r']);
    expect(resolveTopics(custom, 'other.topic')).toEqual(['other.topic']);
    expect(() => readEnv({ KAFKA_BROKERS: 'kafka://x' })).toThrow(/host:port/);
    expect(() => readEnv({ KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/KAFKA_SASL_USERNAME/);
    expect(readEnv({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }).security).toEqual({
      ssl: false,
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
    });
    // the same parsing as the apps (a usage error, exit 2)
    expect(() => readEnv({ KAFKA_SSL: 'yes' })).toThrow(expect.objectContaining({ code: 2, message: 'KAFKA_SSL must be true or false, got "yes"' }));
  });
});

describe('events publish: one NDJSON line', () => {
  it('builds a valid event on the configured topic, with its key, keeping number literals', () => {
    const result = parseLine(`{"type":"prefect.artifact.created","id":"evt-1","source":"/cli","mode":"binary","data":{"id":"${ID}","key":"k","data":{"x":1.0},"created":"${T}"}}`, defaults);
    if (!result.ok) throw new Error(result.message);
    expect(result.event).toMatchObject({ type: 'prefect.artifact.created', id: 'evt-1', topic: 'a', key: 'k' });
    expect(result.event.message.headers).toMatchObject({ ce_source: '/cli', ce_id: 'evt-1' });
    expect(result.event.message.value.toString()).toContain('"data":{"x":1.0}');
    expect(decodeMessage(result.event.message, 'artifacts').ok).toBe(true);
  });

  it.each([
    ['not json', 'invalid_line', /not JSON/],
    ['[1]', 'invalid_line', /not a JSON object/],
    ['{"data":{}}', 'invalid_line', /type is required/],
    ['{"type":"prefect.flow.deleted"}', 'invalid_line', /data is required/],
    ['{"type":"prefect.flow.deleted","data":{},"extra":1}', 'invalid_line', /unknown field "extra"/],
    ['{"type":"prefect.flow.deleted","data":{},"id":5}', 'invalid_line', /id must be a string/],
    ['{"type":"prefect.flow.deleted","data":{},"mode":"xml"}', 'invalid_line', /mode must be/],
    [`{"type":"prefect.flow.deleted","data":{"id":"${ID}"}}`, 'invalid_payload', /updated: required/],
    [`{"type":"prefect.flow.gone","data":{"id":"${ID}"}}`, 'unknown_type', /unknown event type/],
  ])('%s → %s', (line, reason, message) => {
    const result = parseLine(line, defaults);
    if (result.ok) throw new Error('expected a rejection');
    expect(result.reason).toBe(reason);
    expect(result.message).toMatch(message);
  });

  it('reports every problem of a line: its shape and its payload', () => {
    const result = parseLine(`{"type":"prefect.artifact.created","data":{"id":"nope","key":"Bad Key"},"typo":1,"other":2,"id":5}`, defaults);
    if (result.ok) throw new Error('expected a rejection');
    expect(result.reason).toBe('invalid_line');
    expect(result.message).toBe(
      'unknown fields "typo", "other" (a line has type, data, id, source, time, subject, mode; or is a CloudEvent with specversion); id must be a string; ' +
        'invalid prefect.artifact.created data: id: invalid uuid "nope"; key: Artifact key must only contain lowercase letters, numbers, and dashes.; created: required',
    );
    const payload = parseLine(`{"type":"prefect.artifact.created","data":{"id":"nope","key":"Bad Key"}}`, defaults);
    expect(payload).toMatchObject({ ok: false, reason: 'invalid_payload', message: expect.stringMatching(/^invalid prefect\.artifact\.created data: id: .*; key: .*; created: required$/) });
  });

  it('takes a structured CloudEvent as on the topic and sends it byte for byte, extensions included', () => {
    const text = `{"specversion":"1.0","id":"evt-2","source":"/kcat","type":"prefect.artifact.created","time":"${T}","traceid":"t1","data":{"id":"${ID}","key":"k","data":{"x":1.0},"created":"${T}"}}`;
    const result = parseLine(text, defaults);
    if (!result.ok) throw new Error(result.message);
    expect(result.event).toMatchObject({ type: 'prefect.artifact.created', id: 'evt-2', topic: 'a', key: 'k' });
    expect(result.event.message.value.toString()).toBe(text);
    expect(result.event.message.headers).toEqual({ 'content-type': 'application/cloudevents+json' });
    const bad = parseLine(`{"specversion":"0.3","source":"","type":"prefect.artifact.created","time":"later","data":{"id":"${ID}"}}`, defaults);
    expect(bad).toEqual({
      ok: false,
      reason: 'not_cloudevent',
      message: 'specversion must be "1.0"; id: required non-empty string attribute; source: required non-empty string attribute; time: invalid RFC 3339 datetime "later"; invalid prefect.artifact.created data: created: required',
    });
    // The topic follows the type, wherever the event was captured.
    expect(parseLine(`{"specversion":"1.0","id":"e","source":"/s","type":"prefect.flow.deleted","time":"${T}","data":{"id":"${ID}","updated":"${T}"}}`, defaults)).toMatchObject({
      ok: true,
      event: { topic: 'r', key: ID },
    });
    expect(parseLine(`{"specversion":"1.0","id":"e","source":"/s","type":"acme.thing","time":"${T}","data":{}}`, defaults)).toMatchObject({ ok: false, reason: 'unknown_type' });
  });

  it('takes a line of tail --json back: key, value and headers (binary mode too), without the dlq-* headers', () => {
    const binary: MessageView = {
      topic: 'r.dlq',
      partition: 0,
      offset: '3',
      timestamp: String(Date.parse(T)),
      key: Buffer.from(ID),
      value: Buffer.from(`{"id":"${ID}","name":"etl","updated":"${T}","n":1.0}`),
      headers: { ce_specversion: '1.0', ce_id: 'evt-3', ce_source: '/s', ce_type: 'prefect.flow.upserted', ce_time: T, 'content-type': 'application/json', 'dlq-reason': 'wrong_topic' },
    };
    const result = parseLine(describeJsonLine(binary), defaults);
    if (!result.ok) throw new Error(result.message);
    expect(result.event).toMatchObject({ type: 'prefect.flow.upserted', id: 'evt-3', topic: 'r', key: ID });
    expect(result.event.message.value.toString()).toBe(binary.value!.toString());
    expect(Object.keys(result.event.message.headers)).toEqual(['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'content-type']);
    expect(decodeMessage(result.event.message, 'runs').ok).toBe(true);

    const structured = parseLine(describeJsonLine({ ...binary, headers: { 'content-type': 'application/cloudevents+json' }, value: Buffer.from(`{"specversion":"1.0","id":"e4","source":"/s","type":"prefect.flow.deleted","time":"${T}","data":{"id":"${ID}","updated":"${T}"}}`) }), defaults);
    expect(structured).toMatchObject({ ok: true, event: { id: 'e4', topic: 'r' } });
    const garbage = parseLine(describeJsonLine({ ...binary, headers: {}, value: Buffer.from('nope') }), defaults);
    expect(garbage).toMatchObject({ ok: false, reason: 'not_cloudevent' });
  });

  it('--no-validate sends what the ingest app will dead-letter, on the topic its type names', () => {
    const bad = parseLine(`{"type":"prefect.artifact.created","data":{"id":"x","key":"Bad Key","created":"${T}"}}`, { ...defaults, validate: false });
    if (!bad.ok) throw new Error(bad.message);
    expect(bad.event).toMatchObject({ topic: 'a', key: 'Bad Key' });
    const unknown = parseLine(`{"type":"prefect.artifact.created.v2","data":{"id":"${ID}"}}`, { ...defaults, validate: false });
    expect(unknown.ok && unknown.event.topic).toBe('a');
    const unknownRun = parseLine(`{"type":"acme.thing","data":{"id":"${ID}"}}`, { ...defaults, validate: false });
    expect(unknownRun.ok && unknownRun.event.topic).toBe('r');
  });

  it('summarises per topic and lists rejections by line number', () => {
    const text = formatSummary({ lines: 4, published: 2, byTopic: new Map([['a', 1], ['r', 1]]), rejected: [{ line: 3, reason: 'invalid_line', message: 'not JSON' }] }, false);
    expect(text).toBe('published: 2 events (a: 1, r: 1) from 4 lines\nrejected: 1\n  line 3: invalid_line: not JSON\n');
  });

  it('draws a bar when the total is known', () => {
    expect(renderProgress(50, 100, 'x', 10)).toBe('[#####-----]  50% x');
    expect(renderProgress(5, undefined, 'line 5')).toBe('line 5');
  });
});

describe('events tail / replay-dlq: messages', () => {
  const deadLetter: MessageView = {
    topic: 'a.dlq',
    partition: 2,
    offset: '7',
    timestamp: String(Date.parse('2026-11-28T11:00:00Z')),
    key: Buffer.from('Bad Key'),
    value: Buffer.from(JSON.stringify({ specversion: '1.0', id: 'evt-9', type: 'prefect.artifact.created', time: T, data: {} })),
    headers: {
      'content-type': Buffer.from('application/cloudevents+json'),
      traceparent: Buffer.from('00-abc'),
      'dlq-reason': Buffer.from('invalid_payload'),
      'dlq-error': Buffer.from('invalid prefect.artifact.created data: key: bad'),
      'dlq-source-topic': Buffer.from('a'),
      'dlq-source-partition': Buffer.from('1'),
      'dlq-source-offset': Buffer.from('42'),
      'dlq-failed-at': Buffer.from('2026-11-28T11:00:01Z'),
    },
  };

  it('describes a dead letter on one line: time, position, type, key, id, reason, source, error', () => {
    expect(describeMessage(deadLetter)).toBe(
      `${T} 2026-11-28T11:00:00.000Z a.dlq[2]@7 prefect.artifact.created key="Bad Key" id=evt-9 reason=invalid_payload source=a[1]@42 error="invalid prefect.artifact.created data: key: bad"`,
    );
    expect(JSON.parse(describeJsonLine(deadLetter))).toMatchObject({
      time: T,
      kafka_time: '2026-11-28T11:00:00.000Z',
      topic: 'a.dlq',
      partition: 2,
      offset: '7',
      key: 'Bad Key',
      type: 'prefect.artifact.created',
      dlq: { reason: 'invalid_payload', source_topic: 'a', source_offset: '42' },
      headers: { 'content-type': 'application/cloudevents+json', traceparent: '00-abc', 'dlq-reason': 'invalid_payload' },
      value: { specversion: '1.0', id: 'evt-9', type: 'prefect.artifact.created', time: T, data: {} },
    });
  });

  it('shows the value: pretty JSON with numbers as written, else the bytes escaped; in --json as value, value_text or value_base64', () => {
    const lossless = { ...deadLetter, value: Buffer.from('{"specversion":"1.0","data":{"x":1.0,"n":12345678901234567890,"l":[],"o":{}}}') };
    expect(renderValue(lossless.value)).toBe('{\n  "specversion": "1.0",\n  "data": {\n    "x": 1.0,\n    "n": 12345678901234567890,\n    "l": [],\n    "o": {}\n  }\n}');
    expect(describeJsonLine(lossless)).toContain('"value":{"specversion":"1.0","data":{"x":1.0,"n":12345678901234567890,"l":[],"o":{}}}');
    expect(renderValue(Buffer.from('not json\twith a tab\\ and ü'))).toBe('not json\\twith a tab\\\\ and ü');
    expect(renderValue(Buffer.from([0x7b, 0xff, 0x00, 0x41]))).toBe('{\\xff\\x00A');
    expect(renderValue(null)).toBe('<null>');
    expect(renderValue(Buffer.alloc(0))).toBe('<empty>');
    expect(JSON.parse(describeJsonLine({ ...deadLetter, value: Buffer.from('plain') }))).toMatchObject({ value_text: 'plain' });
    expect(JSON.parse(describeJsonLine({ ...deadLetter, value: Buffer.from([0xff, 0xfe]) }))).toMatchObject({ value_base64: '//4=' });
    expect(formatTailMessage(deadLetter, { json: false, value: true }).split('\n').slice(1, 3)).toEqual(['  {', '    "specversion": "1.0",']);
  });

  it('filters by key, type and partition', () => {
    expect(matches(deadLetter, {})).toBe(true);
    expect(matches(deadLetter, { key: 'Bad Key', type: 'prefect.artifact.created', partition: 2 })).toBe(true);
    expect(matches(deadLetter, { key: 'other' })).toBe(false);
    expect(matches(deadLetter, { type: 'prefect.flow.deleted' })).toBe(false);
    expect(matches(deadLetter, { partition: 1 })).toBe(false);
    expect(matches({ ...deadLetter, key: null }, { key: '' })).toBe(false);
  });

  it('describes binary events from their ce_ headers, and garbage as such (Kafka time)', () => {
    const binary = { ...deadLetter, topic: 'r', headers: { ce_type: 'prefect.flow.deleted', ce_id: 'e1', ce_time: T }, value: Buffer.from('{}') };
    expect(describeMessage(binary)).toBe(`${T} 2026-11-28T11:00:00.000Z r[2]@7 prefect.flow.deleted key="Bad Key" id=e1`);
    expect(describeMessage({ ...binary, headers: {}, key: null, value: Buffer.from('nope') })).toBe('- 2026-11-28T11:00:00.000Z r[2]@7 <not a CloudEvent> key=<none>');
  });

  it('replays the original key, value and headers, minus the dlq-* ones', () => {
    const message = replayMessage(deadLetter.key, deadLetter.value, deadLetter.headers);
    expect(message.key).toBe(deadLetter.key);
    expect(message.value).toBe(deadLetter.value);
    expect(Object.keys(message.headers ?? {})).toEqual(['content-type', 'traceparent']);
  });

  it('reports replay counts', () => {
    const text = formatReplay(
      { read: 5, replayed: new Map([['a', 2]]), skippedByFilter: new Map([['unknown_type', 1]]), skippedUnreplayable: new Map([['invalid_json', 1]]), skippedNoSource: 0, skippedTruncated: ['a[1]@9'] },
      ['a.dlq'],
      false,
    );
    expect(text).toBe(
      'read 5 dead letters from a.dlq\nreplayed 2 (a: 2)\nskipped 3 (reason not in --filter: unknown_type: 1; would only be dead-lettered again: invalid_json: 1; fix and publish them, or --force; value truncated, the original is at a[1]@9)\n',
    );
  });

  it('--filter takes known reasons only, and those that can only dead-letter again need --force', () => {
    expect(parseReasonFilter(undefined, false)).toBeUndefined();
    expect(parseReasonFilter('wrong_topic, unknown_type', false)).toEqual(new Set(['wrong_topic', 'unknown_type']));
    expect(parseReasonFilter('invalid_payload', true)).toEqual(new Set(['invalid_payload']));
    expect(() => parseReasonFilter('wrong_topic,typo', false)).toThrow(
      expect.objectContaining({ code: 2, message: 'unknown reason "typo" in --filter; valid reasons: invalid_json, not_cloudevent, unknown_type, invalid_payload, wrong_topic, rejected_by_database' }),
    );
    expect(() => parseReasonFilter('invalid_json,invalid_payload', false)).toThrow(expect.objectContaining({ code: 2, message: expect.stringMatching(/^invalid_json, invalid_payload dead letters would only be dead-lettered again: .*--force/) }));
    expect(() => parseReasonFilter(',', false)).toThrow(/at least one reason/);
    // Every reason the ingest app writes is known; the refused ones among them.
    expect([...UNREPLAYABLE_REASONS].every((r) => (DEAD_LETTER_REASONS as readonly string[]).includes(r))).toBe(true);
  });
});

describe('events tail: where to start', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');

  it('reads --offset, --since (a time or an age) and --from-beginning', () => {
    expect(parseStart({}, now)).toEqual({ kind: 'latest' });
    expect(parseStart({ offset: 'latest' }, now)).toEqual({ kind: 'latest' });
    expect(parseStart({ offset: 'earliest' }, now)).toEqual({ kind: 'earliest' });
    expect(parseStart({ 'from-beginning': true }, now)).toEqual({ kind: 'earliest' });
    expect(parseStart({ offset: '42' }, now)).toEqual({ kind: 'offset', offset: 42n });
    expect(parseStart({ since: '2026-11-28T10:00:00+01:00' }, now)).toEqual({ kind: 'time', ms: Date.parse('2026-11-28T09:00:00Z') });
    expect(parseSince('15m', now)).toBe(now - 15 * 60_000);
    expect(parseSince('2h', now)).toBe(now - 7_200_000);
    expect(parseSince('1.5d', now)).toBe(now - 1.5 * 86_400_000);
  });

  it.each([
    [{ offset: '-1' }, /--offset must be a non-negative integer, earliest or latest/],
    [{ offset: 'first' }, /--offset must be/],
    [{ since: 'yesterday' }, /--since must be an RFC 3339 time/],
    [{ since: '5m', offset: '3' }, /--offset and --since cannot be combined/],
    [{ 'from-beginning': true, offset: 'latest' }, /cannot be combined/],
  ])('%j is a usage error', (options, message) => {
    expect(() => parseStart(options, now)).toThrow(expect.objectContaining({ code: 2, message: expect.stringMatching(message) }));
  });
});

describe('events lag', () => {
  const partitions = [
    { topic: 'a', partition: 0, high_watermark: '10', checkpoint: '10', lag: '0', freshness_seconds: 0 },
    { topic: 'a', partition: 1, high_watermark: '20', checkpoint: '8', lag: '12', freshness_seconds: 75.5 },
    { topic: 'a', partition: 2, high_watermark: '3', checkpoint: null, lag: '3', freshness_seconds: null },
  ];

  it('reads the partitions of GET /status and prints a table', () => {
    const { caughtUp, rows } = lagRows({ caught_up: false, partitions });
    expect(rows.map((r) => r.freshness_seconds)).toEqual([0, 75.5, null]);
    expect(formatLag(rows, caughtUp)).toBe(
      [
        'TOPIC  PARTITION  HIGH-WATER  CHECKPOINT  LAG  FRESHNESS',
        'a              0          10          10    0       0.0s',
        'a              1          20           8   12      1m16s',
        'a              2           3           -    3          -',
        'total lag: 15 messages; behind',
        '',
      ].join('\n'),
    );
  });

  it('fails on a missing value instead of reading it as 0 or unknown, and on the app\'s own error', () => {
    const { freshness_seconds: _, ...withoutFreshness } = partitions[1]!;
    expect(() => lagRows({ caught_up: false, partitions: [partitions[0]!, withoutFreshness as never] })).toThrow(/without caught_up or complete partitions/);
    expect(() => lagRows({ partitions })).toThrow(/without caught_up/);
    expect(() => lagRows({ caught_up: null, partitions: [], error: 'Kafka or PostgreSQL did not answer within 3000 ms' })).toThrow(
      'the ingest app cannot compute its lag: Kafka or PostgreSQL did not answer within 3000 ms',
    );
  });
});
