import { PrefectHttpError } from '../http/prefect-errors';
import { decodeBody } from '../http/request-body';
import { parseCountRequest, parseListRequest } from './artifact-requests';

// Validation as Prefect answers it, byte for byte (docs/api.md §3.2-§3.6).

const JSON_TYPE = 'application/json';

function answer(run: () => unknown): { status: number; body: string } | 'ok' {
  try {
    run();
    return 'ok';
  } catch (e) {
    if (!(e instanceof PrefectHttpError)) throw e;
    return { status: e.status, body: e.body };
  }
}

const list = (text: string, table: 'artifact' | 'artifact_collection' = 'artifact_collection', contentType = JSON_TYPE) =>
  answer(() => parseListRequest(table, decodeBody(contentType, Buffer.from(text)), 200));
const count = (text: string, contentType = JSON_TYPE) => answer(() => parseCountRequest('artifact', decodeBody(contentType, Buffer.from(text))));
const envelope = (items: string, requestBody: string) =>
  `{"exception_message":"Invalid request received.","exception_detail":[${items}],"request_body":${requestBody}}`;

describe('the worked example (§3.5)', () => {
  it('reports offset, then the nested extra key', () => {
    const body = '{"offset": -3, "artifacts": {"key": {"starts_with": "x"}}}';
    expect(list(body)).toEqual({
      status: 422,
      body: envelope(
        '{"type":"greater_than_equal","loc":["body","offset"],"msg":"Input should be greater than or equal to 0","input":-3,"ctx":{"ge":0}},' +
          '{"type":"extra_forbidden","loc":["body","artifacts","key","starts_with"],"msg":"Extra inputs are not permitted","input":"x"}',
        '{"offset":-3,"artifacts":{"key":{"starts_with":"x"}}}',
      ),
    });
  });
});

describe('limit (§3.6, §5)', () => {
  const tooLow = { status: 422, body: '{"detail":"Invalid limit: must be greater than or equal to 0."}' };
  const tooHigh = { status: 422, body: '{"detail":"Invalid limit: must be less than or equal to 200."}' };

  it('out of range pre-empts every other error', () => {
    expect(list('{"limit": -1, "offset": -1}')).toEqual(tooLow);
    expect(list('{"limit": 500, "sort": "NOPE"}')).toEqual(tooHigh);
    expect(list('{"limit": "201", "artifacts": {"bogus": 1}}', 'artifact')).toEqual(tooHigh);
    expect(list('{"limit": 100000000000000000000}')).toEqual(tooHigh);
  });

  it('a mistyped limit joins the envelope, first', () => {
    expect(list('{"sort": "NOPE", "limit": "abc"}')).toEqual({
      status: 422,
      body: envelope(
        '{"type":"int_parsing","loc":["body","limit"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"},' +
          '{"type":"enum","loc":["body","sort"],"msg":"Input should be \'CREATED_DESC\', \'UPDATED_DESC\', \'ID_DESC\', \'KEY_DESC\' or \'KEY_ASC\'","input":"NOPE","ctx":{"expected":"\'CREATED_DESC\', \'UPDATED_DESC\', \'ID_DESC\', \'KEY_DESC\' or \'KEY_ASC\'"}}',
        '{"sort":"NOPE","limit":"abc"}',
      ),
    });
    expect(list('{"limit": 1e20}')).toEqual({
      status: 422,
      body: envelope(
        '{"type":"int_parsing_size","loc":["body","limit"],"msg":"Unable to parse input string as an integer, exceeded maximum size","input":1e+20}',
        '{"limit":1e+20}',
      ),
    });
  });

  it.each([
    ['{"limit": "5"}', 5],
    ['{"limit": " 2 "}', 2],
    ['{"limit": "2.0"}', 2],
    ['{"limit": 5.0}', 5],
    ['{"limit": true}', 1],
    ['{"limit": false}', 0],
    ['{"limit": null}', 200],
    ['{"limit": 0}', 0],
    ['{}', 200],
  ])('%s gives limit %d', (text, limit) => {
    expect(parseListRequest('artifact', decodeBody(JSON_TYPE, Buffer.from(text)), 200).limit).toBe(limit);
  });
});

describe('bodies that are not objects (§3.2)', () => {
  it('reports one missing error per parameter, limit first on list routes', () => {
    const missing = (names: string[]) => names.map((n) => `{"type":"missing","loc":["body","${n}"],"msg":"Field required","input":null}`).join(',');
    expect(list('[1, 2.50]')).toEqual({
      status: 422,
      body: envelope(missing(['limit', 'sort', 'offset', 'artifacts', 'flow_runs', 'task_runs', 'flows', 'deployments']), '[1,2.5]'),
    });
    expect(count('"x"')).toEqual({ status: 422, body: envelope(missing(['artifacts', 'flow_runs', 'task_runs', 'flows', 'deployments']), '"x"') });
    expect(count('0')).toEqual({ status: 422, body: envelope(missing(['artifacts', 'flow_runs', 'task_runs', 'flows', 'deployments']), '0') });
  });

  it('treats null, an empty body and non-JSON content types as no body', () => {
    expect(list('null')).toBe('ok');
    expect(list('')).toBe('ok');
    expect(list('{not json', 'artifact', 'text/plain')).toBe('ok');
    expect(list('{not json', 'artifact', 'application/json/x')).toBe('ok');
  });

  it('parses JSON without a Content-Type, with parameters, and with +json types', () => {
    for (const type of [undefined as unknown as string, '', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.api+json']) {
      expect(list('{"offset": -1}', 'artifact', type)).not.toBe('ok');
    }
  });
});

describe('json_invalid (§3.2)', () => {
  it('reports the decoder message at a character offset and echoes the raw text', () => {
    expect(list('{"a": 1,}')).toEqual({
      status: 422,
      body: envelope(
        '{"type":"json_invalid","loc":["body",8],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}',
        '"{\\"a\\": 1,}"',
      ),
    });
  });

  it('answers 400 for bodies Python fails to decode otherwise', () => {
    expect(answer(() => parseCountRequest('artifact', decodeBody(JSON_TYPE, Buffer.from([0x7b, 0xff, 0x7d]))))).toEqual({
      status: 400,
      body: '{"detail":"There was an error parsing the body"}',
    });
  });
});

describe('top level (§3.3)', () => {
  it('ignores unknown top-level keys and takes null as the default', () => {
    expect(list('{"bogus": {"x": 1}, "sort": null, "offset": null, "artifacts": null}')).toBe('ok');
  });

  it('count routes ignore sort, limit and offset, even invalid', () => {
    expect(count('{"sort": "NOPE", "limit": -5, "offset": "x"}')).toBe('ok');
  });

  it('requires filter parameters to be objects', () => {
    expect(count('{"artifacts": [], "flows": "x"}')).toEqual({
      status: 422,
      body: envelope(
        '{"type":"model_attributes_type","loc":["body","artifacts"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[]},' +
          '{"type":"model_attributes_type","loc":["body","flows"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"x"}',
        '{"artifacts":[],"flows":"x"}',
      ),
    });
  });
});

describe('nested errors', () => {
  it('lists declared members in declaration order (operator first), then extra keys in body order', () => {
    const body = '{"flow_runs": {"zzz": 1, "9": 2, "tags": {"any_": "x"}, "operator": null, "id": {"any_": ["nope", null]}}}';
    expect(count(body)).toEqual({
      status: 422,
      body: envelope(
        [
          '{"type":"enum","loc":["body","flow_runs","operator"],"msg":"Input should be \'and_\' or \'or_\'","input":null,"ctx":{"expected":"\'and_\' or \'or_\'"}}',
          '{"type":"uuid_parsing","loc":["body","flow_runs","id","any_",0],"msg":"Input should be a valid UUID, invalid character: found `n` at 0","input":"nope","ctx":{"error":"invalid character: found `n` at 0"}}',
          '{"type":"uuid_type","loc":["body","flow_runs","id","any_",1],"msg":"UUID input should be a string, bytes or UUID object","input":null}',
          '{"type":"list_type","loc":["body","flow_runs","tags","any_"],"msg":"Input should be a valid list","input":"x"}',
          '{"type":"extra_forbidden","loc":["body","flow_runs","zzz"],"msg":"Extra inputs are not permitted","input":1}',
          '{"type":"extra_forbidden","loc":["body","flow_runs","9"],"msg":"Extra inputs are not permitted","input":2}',
        ].join(','),
        '{"flow_runs":{"zzz":1,"9":2,"tags":{"any_":"x"},"operator":null,"id":{"any_":["nope",null]}}}',
      ),
    });
  });

  it('reports timestamps, booleans and state types with their Pydantic messages', () => {
    const body = '{"flow_runs": {"state": {"type": {"any_": ["DONE"]}}, "start_time": {"before_": "notadate", "after_": true, "is_null_": "maybe"}}}';
    expect(count(body)).toEqual({
      status: 422,
      body: envelope(
        [
          '{"type":"enum","loc":["body","flow_runs","state","type","any_",0],"msg":"Input should be \'SCHEDULED\', \'PENDING\', \'RUNNING\', \'COMPLETED\', \'FAILED\', \'CANCELLED\', \'CRASHED\', \'PAUSED\' or \'CANCELLING\'","input":"DONE","ctx":{"expected":"\'SCHEDULED\', \'PENDING\', \'RUNNING\', \'COMPLETED\', \'FAILED\', \'CANCELLED\', \'CRASHED\', \'PAUSED\' or \'CANCELLING\'"}}',
          '{"type":"value_error","loc":["body","flow_runs","start_time","before_"],"msg":"Value error, Unable to parse string [notadate]","input":"notadate","ctx":{"error":{}}}',
          '{"type":"value_error","loc":["body","flow_runs","start_time","after_"],"msg":"value is not a valid datetime","input":true}',
          '{"type":"bool_parsing","loc":["body","flow_runs","start_time","is_null_"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}',
        ].join(','),
        '{"flow_runs":{"state":{"type":{"any_":["DONE"]}},"start_time":{"before_":"notadate","after_":true,"is_null_":"maybe"}}}',
      ),
    });
  });

  it('forbids members another filter class has (latest_id on versions, any_ on task run tags)', () => {
    expect(count('{"artifacts": {"latest_id": {"any_": []}}, "task_runs": {"tags": {"any_": ["x"]}}}')).toEqual({
      status: 422,
      body: envelope(
        '{"type":"extra_forbidden","loc":["body","artifacts","latest_id"],"msg":"Extra inputs are not permitted","input":{"any_":[]}},' +
          '{"type":"extra_forbidden","loc":["body","task_runs","tags","any_"],"msg":"Extra inputs are not permitted","input":["x"]}',
        '{"artifacts":{"latest_id":{"any_":[]}},"task_runs":{"tags":{"any_":["x"]}}}',
      ),
    });
  });

  it('echoes numbers as Python writes them', () => {
    expect(list('{"offset": -3.0, "bogus": [1.50, 1E2, 12345678901234567890123, NaN]}')).toEqual({
      status: 422,
      body: envelope(
        '{"type":"greater_than_equal","loc":["body","offset"],"msg":"Input should be greater than or equal to 0","input":-3.0,"ctx":{"ge":0}}',
        '{"offset":-3.0,"bogus":[1.5,100.0,12345678901234567890123,null]}',
      ),
    });
  });
});

// Bodies with several errors, datetimes among them, and Prefect 3.6.24's answers on
// PostgreSQL (probed over HTTP): the same items, in the same order, with the same texts.
const PROBED_MULTI: [string, string, number, string][] = [
  [
    "/api/artifacts/filter",
    "{\"offset\":\"x\",\"sort\":\"NOPE\",\"artifacts\":{\"key\":{\"any_\":[1]}},\"flow_runs\":{\"start_time\":{\"after_\":\"now\",\"before_\":\"garbage\"}},\"task_runs\":{\"start_time\":{\"after_\":\"P1D\"}}}",
    422,
    "{\"exception_message\":\"Invalid request received.\",\"exception_detail\":[{\"type\":\"enum\",\"loc\":[\"body\",\"sort\"],\"msg\":\"Input should be 'CREATED_DESC', 'UPDATED_DESC', 'ID_DESC', 'KEY_DESC' or 'KEY_ASC'\",\"input\":\"NOPE\",\"ctx\":{\"expected\":\"'CREATED_DESC', 'UPDATED_DESC', 'ID_DESC', 'KEY_DESC' or 'KEY_ASC'\"}},{\"type\":\"int_parsing\",\"loc\":[\"body\",\"offset\"],\"msg\":\"Input should be a valid integer, unable to parse string as an integer\",\"input\":\"x\"},{\"type\":\"string_type\",\"loc\":[\"body\",\"artifacts\",\"key\",\"any_\",0],\"msg\":\"Input should be a valid string\",\"input\":1},{\"type\":\"value_error\",\"loc\":[\"body\",\"flow_runs\",\"start_time\",\"before_\"],\"msg\":\"Value error, Unable to parse string [garbage]\",\"input\":\"garbage\",\"ctx\":{\"error\":{}}},{\"type\":\"value_error\",\"loc\":[\"body\",\"task_runs\",\"start_time\",\"after_\"],\"msg\":\"Value error, value is not a valid datetime it is a <class 'pendulum.duration.Duration'>\",\"input\":\"P1D\",\"ctx\":{\"error\":{}}}],\"request_body\":{\"offset\":\"x\",\"sort\":\"NOPE\",\"artifacts\":{\"key\":{\"any_\":[1]}},\"flow_runs\":{\"start_time\":{\"after_\":\"now\",\"before_\":\"garbage\"}},\"task_runs\":{\"start_time\":{\"after_\":\"P1D\"}}}}"
  ],
  [
    "/api/artifacts/filter",
    "{\"flow_runs\":{\"start_time\":{\"after_\":\"2024/01/02 25:00\"},\"expected_start_time\":{\"before_\":\"7:\"}},\"artifacts\":{\"id\":{\"any_\":[\"x\"]}}}",
    422,
    "{\"exception_message\":\"Invalid request received.\",\"exception_detail\":[{\"type\":\"uuid_parsing\",\"loc\":[\"body\",\"artifacts\",\"id\",\"any_\",0],\"msg\":\"Input should be a valid UUID, invalid character: found `x` at 0\",\"input\":\"x\",\"ctx\":{\"error\":\"invalid character: found `x` at 0\"}},{\"type\":\"value_error\",\"loc\":[\"body\",\"flow_runs\",\"start_time\",\"after_\"],\"msg\":\"Value error, hour must be in 0..23\",\"input\":\"2024/01/02 25:00\",\"ctx\":{\"error\":{}}},{\"type\":\"value_error\",\"loc\":[\"body\",\"flow_runs\",\"expected_start_time\",\"before_\"],\"msg\":\"value is not a valid datetime\",\"input\":\"7:\"}],\"request_body\":{\"flow_runs\":{\"start_time\":{\"after_\":\"2024/01/02 25:00\"},\"expected_start_time\":{\"before_\":\"7:\"}},\"artifacts\":{\"id\":{\"any_\":[\"x\"]}}}}"
  ],
  [
    "/api/artifacts/filter",
    "{\"task_runs\":{\"start_time\":{\"after_\":\"2024-01-01/P1D\",\"before_\":\"2024-01-01/2024-01-02\"}},\"flow_runs\":{\"next_scheduled_start_time\":{\"after_\":\"12:00\",\"before_\":\"2024-W01\"}},\"limit\":\"a\"}",
    422,
    "{\"exception_message\":\"Invalid request received.\",\"exception_detail\":[{\"type\":\"int_parsing\",\"loc\":[\"body\",\"limit\"],\"msg\":\"Input should be a valid integer, unable to parse string as an integer\",\"input\":\"a\"},{\"type\":\"value_error\",\"loc\":[\"body\",\"task_runs\",\"start_time\",\"before_\"],\"msg\":\"Value error, value is not a valid datetime it is a <class 'pendulum.interval.Interval'>\",\"input\":\"2024-01-01/2024-01-02\",\"ctx\":{\"error\":{}}},{\"type\":\"value_error\",\"loc\":[\"body\",\"task_runs\",\"start_time\",\"after_\"],\"msg\":\"value is not a valid datetime\",\"input\":\"2024-01-01/P1D\"}],\"request_body\":{\"task_runs\":{\"start_time\":{\"after_\":\"2024-01-01/P1D\",\"before_\":\"2024-01-01/2024-01-02\"}},\"flow_runs\":{\"next_scheduled_start_time\":{\"after_\":\"12:00\",\"before_\":\"2024-W01\"}},\"limit\":\"a\"}}"
  ],
  [
    "/api/artifacts/filter",
    "{\"artifacts\":{\"key\":{\"like_\":5}},\"flow_runs\":{\"start_time\":{\"after_\":\"2024-01-02T12:00:00+24:00\"}}}",
    422,
    "{\"exception_message\":\"Invalid request received.\",\"exception_detail\":[{\"type\":\"string_type\",\"loc\":[\"body\",\"artifacts\",\"key\",\"like_\"],\"msg\":\"Input should be a valid string\",\"input\":5}],\"request_body\":{\"artifacts\":{\"key\":{\"like_\":5}},\"flow_runs\":{\"start_time\":{\"after_\":\"2024-01-02T12:00:00+24:00\"}}}}"
  ],
  [
    "/api/artifacts/latest/count",
    "{\"offset\":\"x\",\"sort\":\"NOPE\",\"artifacts\":{\"key\":{\"any_\":[1]}},\"flow_runs\":{\"start_time\":{\"after_\":\"now\",\"before_\":\"garbage\"}},\"task_runs\":{\"start_time\":{\"after_\":\"P1D\"}}}",
    422,
    "{\"exception_message\":\"Invalid request received.\",\"exception_detail\":[{\"type\":\"string_type\",\"loc\":[\"body\",\"artifacts\",\"key\",\"any_\",0],\"msg\":\"Input should be a valid string\",\"input\":1},{\"type\":\"value_error\",\"loc\":[\"body\",\"flow_runs\",\"start_time\",\"before_\"],\"msg\":\"Value error, Unable to parse string [garbage]\",\"input\":\"garbage\",\"ctx\":{\"error\":{}}},{\"type\":\"value_error\",\"loc\":[\"body\",\"task_runs\",\"start_time\",\"after_\"],\"msg\":\"Value error, value is not a valid datetime it is a <class 'pendulum.duration.Duration'>\",\"input\":\"P1D\",\"ctx\":{\"error\":{}}}],\"request_body\":{\"offset\":\"x\",\"sort\":\"NOPE\",\"artifacts\":{\"key\":{\"any_\":[1]}},\"flow_runs\":{\"start_time\":{\"after_\":\"now\",\"before_\":\"garbage\"}},\"task_runs\":{\"start_time\":{\"after_\":\"P1D\"}}}}"
  ],
  [
    "/api/artifacts/latest/count",
    "{\"flow_runs\":{\"start_time\":{\"after_\":\"2024/01/02 25:00\"},\"expected_start_time\":{\"before_\":\"7:\"}},\"artifacts\":{\"id\":{\"any_\":[\"x\"]}}}",
    422,
    "{\"exception_message\":\"Invalid request received.\",\"exception_detail\":[{\"type\":\"extra_forbidden\",\"loc\":[\"body\",\"artifacts\",\"id\"],\"msg\":\"Extra inputs are not permitted\",\"input\":{\"any_\":[\"x\"]}},{\"type\":\"value_error\",\"loc\":[\"body\",\"flow_runs\",\"start_time\",\"after_\"],\"msg\":\"Value error, hour must be in 0..23\",\"input\":\"2024/01/02 25:00\",\"ctx\":{\"error\":{}}},{\"type\":\"value_error\",\"loc\":[\"body\",\"flow_runs\",\"expected_start_time\",\"before_\"],\"msg\":\"value is not a valid datetime\",\"input\":\"7:\"}],\"request_body\":{\"flow_runs\":{\"start_time\":{\"after_\":\"2024/01/02 25:00\"},\"expected_start_time\":{\"before_\":\"7:\"}},\"artifacts\":{\"id\":{\"any_\":[\"x\"]}}}}"
  ],
  [
    "/api/artifacts/latest/count",
    "{\"task_runs\":{\"start_time\":{\"after_\":\"2024-01-01/P1D\",\"before_\":\"2024-01-01/2024-01-02\"}},\"flow_runs\":{\"next_scheduled_start_time\":{\"after_\":\"12:00\",\"before_\":\"2024-W01\"}},\"limit\":\"a\"}",
    422,
    "{\"exception_message\":\"Invalid request received.\",\"exception_detail\":[{\"type\":\"value_error\",\"loc\":[\"body\",\"task_runs\",\"start_time\",\"before_\"],\"msg\":\"Value error, value is not a valid datetime it is a <class 'pendulum.interval.Interval'>\",\"input\":\"2024-01-01/2024-01-02\",\"ctx\":{\"error\":{}}},{\"type\":\"value_error\",\"loc\":[\"body\",\"task_runs\",\"start_time\",\"after_\"],\"msg\":\"value is not a valid datetime\",\"input\":\"2024-01-01/P1D\"}],\"request_body\":{\"task_runs\":{\"start_time\":{\"after_\":\"2024-01-01/P1D\",\"before_\":\"2024-01-01/2024-01-02\"}},\"flow_runs\":{\"next_scheduled_start_time\":{\"after_\":\"12:00\",\"before_\":\"2024-W01\"}},\"limit\":\"a\"}}"
  ],
  [
    "/api/artifacts/latest/count",
    "{\"artifacts\":{\"key\":{\"like_\":5}},\"flow_runs\":{\"start_time\":{\"after_\":\"2024-01-02T12:00:00+24:00\"}}}",
    422,
    "{\"exception_message\":\"Invalid request received.\",\"exception_detail\":[{\"type\":\"string_type\",\"loc\":[\"body\",\"artifacts\",\"key\",\"like_\"],\"msg\":\"Input should be a valid string\",\"input\":5}],\"request_body\":{\"artifacts\":{\"key\":{\"like_\":5}},\"flow_runs\":{\"start_time\":{\"after_\":\"2024-01-02T12:00:00+24:00\"}}}}"
  ]
];

describe('several errors at once, datetimes among them (issue 12, probed)', () => {
  it.each(PROBED_MULTI)('POST %s %s → %d', (route, body, status, text) => {
    const decoded = () => decodeBody(JSON_TYPE, Buffer.from(body));
    const ours =
      route === '/api/artifacts/filter'
        ? answer(() => parseListRequest('artifact', decoded(), 200))
        : answer(() => parseCountRequest('artifact_collection', decoded()));
    expect(ours).toEqual({ status, body: text });
  });

  it('accepts the strings only pendulum reads ("now", ISO weeks, bare times)', () => {
    const body = '{"flow_runs":{"start_time":{"after_":"now","before_":"2024-W01"},"next_scheduled_start_time":{"after_":"12:00"}},"task_runs":{"start_time":{"before_":"20240101T120000Z"}}}';
    expect(count(body)).toBe('ok');
  });

  it('answers 422 for an offset of a day or more only when nothing else is wrong (Prefect: 503)', () => {
    const body = '{"flow_runs":{"start_time":{"after_":"2024-01-02T12:00:00+24:00"}}}';
    expect(count(body)).toEqual({
      status: 422,
      body: envelope(
        '{"type":"value_error","loc":["body","flow_runs","start_time","after_"],"msg":"Value error, Unable to parse string [2024-01-02T12:00:00+24:00]","input":"2024-01-02T12:00:00+24:00","ctx":{"error":{}}}',
        body,
      ),
    });
  });

  it('accepts such an offset where an or_ holding an empty filter drops it unbound, as Prefect (200)', () => {
    const body = '{"flow_runs":{"operator":"or_","tags":{"operator":"or_"},"start_time":{"after_":"2024-01-01T00:00:00+24:00"}}}';
    expect(count(body)).toBe('ok');
    expect(count(body.replace('"tags":{"operator":"or_"},', ''))).toMatchObject({ status: 422 });
  });
});
