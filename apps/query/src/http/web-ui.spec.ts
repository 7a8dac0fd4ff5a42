import Fastify from 'fastify';
import { join } from 'node:path';
import { parsePrometheus, PipelineWatcher, registerWebUi } from './web-ui';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { renderMarkdown } = require('../../../../web/markdown.js') as { renderMarkdown(source: string): string };

const METRICS = `# HELP ingest_events_applied_total x
# TYPE ingest_events_applied_total counter
ingest_events_applied_total{topic="a.artifacts",type="prefect.artifact.created"} 90
ingest_events_applied_total{topic="a.runs",type="prefect.flow.upserted"} 10
ingest_events_dead_lettered_total{topic="a.artifacts",type="unknown",reason="schema"} 2
ingest_projection_freshness_seconds{topic="a.artifacts",partition="0"} 1.5
`;

function fakeIngest(applied: () => number) {
  return (async (url: string) => {
    if (String(url).endsWith('/ready')) {
      return new Response(JSON.stringify({ caught_up: true, partitions: [{ topic: 'a.artifacts', partition: 0, high_watermark: '5', checkpoint: '5', lag: '0' }] }));
    }
    return new Response(METRICS.replace(' 90\n', ` ${applied()}\n`));
  }) as unknown as typeof fetch;
}

describe('web page server side', () => {
  it('parses Prometheus text with labels', () => {
    const samples = parsePrometheus(METRICS);
    expect(samples).toHaveLength(4);
    expect(samples[2]).toEqual({ name: 'ingest_events_dead_lettered_total', labels: { topic: 'a.artifacts', type: 'unknown', reason: 'schema' }, value: 2 });
  });

  it('computes events per second from successive scrapes and resets on a counter drop', async () => {
    let now = 1_000_000;
    let applied = 90;
    const watcher = new PipelineWatcher('http://ingest', fakeIngest(() => applied), () => now);
    const first = await watcher.status();
    expect(first).toMatchObject({ reachable: true, caught_up: true, applied_total: 100, dead_lettered_total: 2, events_per_second: null });
    expect(first.partitions).toEqual([{ topic: 'a.artifacts', partition: 0, high_watermark: '5', checkpoint: '5', lag: '0', freshness_seconds: 1.5 }]);
    now += 10_000;
    applied = 140;
    expect(await watcher.status()).toMatchObject({ applied_total: 150, events_per_second: 5, dead_lettered_recent: 0 });
    now += 10_000;
    applied = 0;
    expect(await watcher.status()).toMatchObject({ applied_total: 10, events_per_second: null });
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
