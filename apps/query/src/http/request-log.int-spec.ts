import { Writable } from 'node:stream';
import pino from 'pino';
import { createTestDatabase, TestDatabase } from '../../../../test/support/database';
import { startQueryApp } from '../query.module';

// Structured request logs: one JSON line per request, with its id, and no secret in them.
describe('query app request log', () => {
  let db: TestDatabase;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  let close: () => Promise<void>;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase('query_log');
    const logger = pino({ level: 'info' }, sink);
    const started = await startQueryApp({ databaseUrl: db.url, port: 0, defaultLimit: 200, logLevel: 'info', authToken: 's3cret-token' }, logger);
    base = started.url;
    close = () => started.app.close();
  });

  afterAll(async () => {
    await close?.();
    await db?.drop();
  });

  it('logs each API request once with its id, echoes the id, and never the token', async () => {
    const response = await fetch(`${base}/api/artifacts/count`, { method: 'POST', headers: { 'x-request-id': 'trace-abc-123', authorization: 'Bearer s3cret-token' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('trace-abc-123');
    const generated = await fetch(`${base}/api/artifacts/count`, { method: 'POST', headers: { authorization: 'Bearer s3cret-token' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const requests = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    expect(requests.find((l) => l.reqId === 'trace-abc-123')).toMatchObject({ method: 'POST', route: '/api/artifacts/count', status: 200 });
    expect(requests.some((l) => l.reqId === generated.headers.get('x-request-id'))).toBe(true);
    expect(lines.join('\n')).not.toContain('s3cret-token');
  });

  it('labels requests by route pattern in the log and in /metrics, never by a regular expression', async () => {
    const auth = { authorization: 'Bearer s3cret-token' };
    const id = '6f9619ff-8b86-4d01-b42d-00c04fc964ff';
    expect((await fetch(`${base}/api/artifacts/${id}`, { headers: { ...auth, 'x-request-id': 'by-id-1' } })).status).toBe(404);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/artifacts\/:id",status_code="404"\} 1/);
    expect(metrics).not.toContain('route="/api/artifacts/:id(');
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.reqId === 'by-id-1');
    expect(line).toMatchObject({ route: '/api/artifacts/:id', status: 404 });
  });
});

