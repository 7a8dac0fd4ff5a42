import type { IncomingMessage, ServerResponse } from 'node:http';
import { createIngestLogger, httpLogOptions, requestId, scrubber, secretsFromEnv, secretsOf } from './ingest.logger';

describe('ingest logs: secrets', () => {
  it('takes the DATABASE_URL password (userinfo or ?password=) and KAFKA_SASL_PASSWORD', () => {
    expect(secretsOf('postgres://app:s%40cret@db:5432/x?password=other', 'sasl-pw')).toEqual(['s%40cret', 'other', 'sasl-pw']);
    expect(secretsFromEnv({ DATABASE_URL: 'postgres://app:pw-1234@db/x', KAFKA_SASL_PASSWORD: 'k-secret' })).toEqual(['pw-1234', '', 'k-secret']);
    expect(secretsOf('not a url')).toEqual([]);
  });

  it('does not treat a password equal to the user name as a secret (the user name is printed anyway)', () => {
    expect(secretsOf('postgres://postgres:postgres@127.0.0.1/x')).toEqual(['']);
  });

  it('scrubs every spelling: as given, URL-decoded and -encoded, JSON-escaped', () => {
    const scrub = scrubber(secretsOf('postgres://app:p%40ss%22word@db/x'));
    expect(scrub('url postgres://app:p%40ss%22word@db/x; raw p@ss"word; json "p@ss\\"word"')).toBe('url postgres://app:***@db/x; raw ***; json "***"');
    expect(scrubber(['ab'])('ab stays: too short to be a secret')).toBe('ab stays: too short to be a secret');
  });

  it('a logger never writes a secret, even inside an error stack', () => {
    const written: string[] = [];
    const logger = createIngestLogger('info', ['hunter2-secret'], { write: (line: string) => written.push(line) });
    logger.error({ err: new Error('connect failed for postgres://u:hunter2-secret@h/x') }, 'failed with hunter2-secret');
    logger.debug('below the level');
    expect(written).toHaveLength(1);
    expect(written[0]).not.toContain('hunter2-secret');
    expect(JSON.parse(written[0]!)).toMatchObject({ level: 50, name: 'ingest', msg: 'failed with ***', err: { message: 'connect failed for postgres://u:***@h/x' } });
  });
});

describe('ingest logs: HTTP requests', () => {
  const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;
  const res = (statusCode: number) => ({ statusCode }) as ServerResponse;

  it('uses the caller request id when it looks like one, else a UUID', () => {
    expect(requestId({ headers: { 'x-request-id': 'abc-1.2:3_x' } })).toBe('abc-1.2:3_x');
    expect(requestId({ headers: { 'x-request-id': 'has space' } })).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestId({ headers: { 'x-request-id': 'x'.repeat(200) } })).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestId({ headers: {} })).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs probes at debug, client errors at warn, other server errors at error', () => {
    const level = httpLogOptions(createIngestLogger('info', [], { write: () => undefined })).customLogLevel!;
    expect(level(req('/health'), res(200))).toBe('debug');
    expect(level(req('/ready?x=1'), res(503))).toBe('debug');
    expect(level(req('/metrics'), res(200))).toBe('debug');
    expect(level(req('/nope'), res(404))).toBe('warn');
    expect(level(req('/other'), res(500))).toBe('error');
    expect(level(req('/other'), res(200))).toBe('info');
  });
});
