import Fastify from 'fastify';
import { join } from 'node:path';
import type { ChangeFeed } from '../live/change-feed';
import { PipelineWatcher, registerWebUi } from './web-ui';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { renderMarkdown } = require('../../../../web/markdown.js') as { renderMarkdown(source: string): string };

const STATUS = {
  started_at: '2026-12-01T08:00:00.000Z',
  window: { seconds: 900, from: '2026-12-01T08:00:00.000Z', to: '2026-12-01T08:05:00.000Z', applied: 90, dead_lettered: 3 },
  events_per_second: 1.5,
  since_start: { applied: 90, dead_lettered: 3 },
  durable: { applied_messages: '193', dead_lettered: '5' },
  caught_up: true,
  partitions: [{ topic: 'a.artifacts', partition: 0, high_watermark: '5', checkpoint: '5', lag: '0', freshness_seconds: 0 }],
};

describe('web page server side', () => {
  it('relays the ingest app\'s own status, at most one request per second', async () => {
    let now = 1_000_000;
    const asked: string[] = [];
    const fetchImpl = (async (url: string) => {
      asked.push(String(url));
      return new Response(JSON.stringify(STATUS));
    }) as unknown as typeof fetch;
    const watcher = new PipelineWatcher('http://ingest/', fetchImpl, () => now);
    expect(await watcher.status()).toMatchObject({ reachable: true, ingest_url: 'http://ingest', ingest: STATUS });
    now += 500;
    await watcher.status();
    expect(asked).toEqual(['http://ingest/status']);
    now += 1000;
    await watcher.status();
    expect(asked).toHaveLength(2);
  });

  it('reports an ingest app answering an error', async () => {
    const watcher = new PipelineWatcher('http://ingest', (async () => new Response('nope', { status: 502 })) as unknown as typeof fetch);
    expect(await watcher.status()).toMatchObject({ reachable: false, ingest: null, error: 'GET /status answered 502' });
  });

  it('reports an unreachable ingest app', async () => {
    const watcher = new PipelineWatcher('http://ingest', async () => {
      throw new Error('connect ECONNREFUSED');
    });
    expect(await watcher.status()).toMatchObject({ reachable: false, error: 'connect ECONNREFUSED' });
  });

  it('serves the page and requires the token for the status when one is set', async () => {
    const fastify = Fastify();
    registerWebUi(fastify, { ingestUrl: 'http://127.0.0.1:1', authToken: 's3cret', webDir: join(__dirname, '..', '..', '..', '..', 'web') });
    const page = await fastify.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await fastify.inject({ url: '/ui/static/app.js' })).statusCode).toBe(200);
    expect((await fastify.inject({ url: '/ui/static/..%2Fpackage.json' })).statusCode).toBe(404);
    expect((await fastify.inject({ url: '/ui/pipeline-status' })).statusCode).toBe(401);
    expect((await fastify.inject({ url: '/ui/pipeline-status', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
    const ok = await fastify.inject({ url: '/ui/pipeline-status', headers: { authorization: 'Bearer s3cret' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ reachable: false });
    await fastify.close();
  });

  it('requires the token for the pushed status too', async () => {
    const fastify = Fastify();
    const feed = { onCommit: () => () => undefined } as unknown as ChangeFeed;
    registerWebUi(fastify, { ingestUrl: 'http://127.0.0.1:1', authToken: 's3cret', webDir: join(__dirname, '..', '..', '..', '..', 'web'), feed });
    for (const headers of [{}, { authorization: 'Bearer nope' }]) {
      const refused = await fastify.inject({ url: '/ui/pipeline-status/subscribe', headers });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer');
    }
    await fastify.close();
  });

  it('asks the ingest app again for a status no older than a given instant', async () => {
    let now = 1_000_000;
    let asked = 0;
    const fetchImpl = (async () => {
      asked++;
      return new Response(JSON.stringify(STATUS));
    }) as unknown as typeof fetch;
    const watcher = new PipelineWatcher('http://ingest', fetchImpl, () => now);
    await watcher.status();
    now += 100;
    await watcher.status();
    expect(asked).toBe(1);
    await watcher.status(now);
    expect(asked).toBe(2);
  });
});

describe('web/markdown.js', () => {
  it('renders headings, emphasis, code, lists, links and tables', () => {
    const html = renderMarkdown('# Title\n\nSome **bold**, *italic* and `x<y`.\n\n- a\n- b\n\n1. one\n\n[site](https://example.com/?a=1&b=2)\n\n| k | v |\n|---|---|\n| rows | 3 |\n');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<em>italic</em>');
    expect(html).toContain('<code>x&lt;y</code>');
    expect(html).toContain('<ul><li>a</li><li>b</li></ul>');
    expect(html).toContain('<ol><li>one</li></ol>');
    expect(html).toContain('<a href="https://example.com/?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">site</a>');
    expect(html).toContain('<thead><tr><th scope="col">k</th><th scope="col">v</th></tr></thead><tbody><tr><td>rows</td><td>3</td></tr></tbody>');
  });

  it.each([
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '[x](javascript:alert(1))',
    '[x](data:text/html,hi)',
    '[x](https://a.b/"onmouseover="alert(1))',
    '| <b onclick=1> | x |\n|---|---|\n| 1 | 2 |',
  ])('never lets markup or unsafe links through: %s', (source) => {
    const html = renderMarkdown(source);
    expect(html).not.toMatch(/<(script|img|b)\b/i);
    expect(html).not.toMatch(/href="(?!https?:)/i);
    expect(html).not.toMatch(/\son\w+="/i);
  });
});
