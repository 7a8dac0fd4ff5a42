import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { bearerCheck } from './fastify-setup';

// The artifacts web page (issue #8): `/` and its static files under `/ui/`
// (built from the repository's `web/` folder into `dist/web/`), plus
// `GET /ui/pipeline-status`, which reads the ingest app's /ready and /metrics
// server-side so the browser needs only this origin. Outside /api, so none of
// Prefect's routes are touched.

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Where the page's files are: WEB_DIR, else dist/web next to the built app, else the sources in ./web. */
export function findWebDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const mainFile = process.argv[1]; // webpack rewrites require.main; argv[1] is dist/apps/query/main.js when built
  const candidates = [
    env.WEB_DIR,
    mainFile ? join(mainFile, '..', '..', '..', 'web') : undefined, // dist/apps/query/main.js -> dist/web
    join(process.cwd(), 'dist', 'web'),
    join(process.cwd(), 'web'),
  ];
  return candidates.find((dir): dir is string => dir !== undefined && existsSync(join(dir, 'index.html')));
}

export interface PipelineSample {
  at: number;
  applied: number;
  deadLettered: number;
}

export interface PipelineStatus {
  ingest_url: string;
  reachable: boolean;
  error?: string;
  caught_up: boolean | null;
  partitions: { topic: string; partition: number; high_watermark: string | null; checkpoint: string | null; lag: string | null; freshness_seconds: number | null }[];
  applied_total: number | null;
  dead_lettered_total: number | null;
  events_per_second: number | null;
  dead_lettered_recent: number | null;
  recent_window_seconds: number;
  scraped_at: string;
}

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (the subset prom-client writes). */
export function parsePrometheus(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l: RegExpExecArray | null;
      while ((l = re.exec(m[2])) !== null) labels[l[1] as string] = (l[2] as string).replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    }
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

const WINDOW_MS = 5 * 60_000;
const RATE_OVER_MS = 10_000;

/** Keeps recent scrapes so a rate and a recent dead-letter count can be computed server-side. */
export class PipelineWatcher {
  private samples: PipelineSample[] = [];
  private inflight?: Promise<PipelineStatus>;
  private last?: { at: number; status: PipelineStatus };

  constructor(
    private readonly ingestUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly now: () => number = Date.now,
  ) {}

  /** At most one scrape per second, whatever the number of open pages. */
  status(): Promise<PipelineStatus> {
    if (this.last && this.now() - this.last.at < 1000) return Promise.resolve(this.last.status);
    this.inflight ??= this.scrape().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async scrape(): Promise<PipelineStatus> {
    const at = this.now();
    const base = this.ingestUrl.replace(/\/+$/, '');
    const status: PipelineStatus = {
      ingest_url: base,
      reachable: false,
      caught_up: null,
      partitions: [],
      applied_total: null,
      dead_lettered_total: null,
      events_per_second: null,
      dead_lettered_recent: null,
      recent_window_seconds: WINDOW_MS / 1000,
      scraped_at: new Date(at).toISOString(),
    };
    try {
      const signal = AbortSignal.timeout(3000);
      const [ready, metrics] = await Promise.all([this.fetchImpl(`${base}/ready`, { signal }), this.fetchImpl(`${base}/metrics`, { signal })]);
      const readyBody = (await ready.json()) as { caught_up?: boolean; partitions?: { topic: string; partition: number; high_watermark: unknown; checkpoint: unknown; lag: unknown }[] };
      const samples = parsePrometheus(await metrics.text());
      const sum = (name: string) => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
      const freshness = new Map(samples.filter((s) => s.name === 'ingest_projection_freshness_seconds').map((s) => [`${s.labels.topic}\0${s.labels.partition}`, s.value]));
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- /ready's offsets and lags are JSON scalars
      const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
      status.reachable = true;
      status.caught_up = typeof readyBody.caught_up === 'boolean' ? readyBody.caught_up : ready.ok;
      status.partitions = (readyBody.partitions ?? []).map((p) => ({
        topic: p.topic,
        partition: p.partition,
        high_watermark: text(p.high_watermark),
        checkpoint: text(p.checkpoint),
        lag: text(p.lag),
        freshness_seconds: freshness.get(`${p.topic}\0${p.partition}`) ?? null,
      }));
      const sample = { at, applied: sum('ingest_events_applied_total'), deadLettered: sum('ingest_events_dead_lettered_total') };
      status.applied_total = sample.applied;
      status.dead_lettered_total = sample.deadLettered;
      // A counter that went down means the ingest app restarted: start over.
      const previous = this.samples[this.samples.length - 1];
      if (previous && (sample.applied < previous.applied || sample.deadLettered < previous.deadLettered)) this.samples = [];
      this.samples = this.samples.filter((s) => at - s.at <= WINDOW_MS);
      const oldest = this.samples[0];
      const rateBase = [...this.samples].reverse().find((s) => at - s.at >= RATE_OVER_MS) ?? oldest;
      if (rateBase && at > rateBase.at) status.events_per_second = Math.round(((sample.applied - rateBase.applied) / ((at - rateBase.at) / 1000)) * 100) / 100;
      status.dead_lettered_recent = oldest ? sample.deadLettered - oldest.deadLettered : null;
      this.samples.push(sample);
    } catch (e) {
      status.error = (e as Error).message;
    }
    this.last = { at, status };
    return status;
  }
}

export function registerWebUi(fastify: FastifyInstance, options: { ingestUrl: string; authToken?: string; webDir?: string }): void {
  const webDir = options.webDir ?? findWebDir();
  const watcher = new PipelineWatcher(options.ingestUrl);
  const checkAuth = options.authToken === undefined ? undefined : bearerCheck(options.authToken);
  const cache = new Map<string, Buffer>();

  const sendFile = (reply: FastifyReply, file: string) => {
    const type = TYPES[extname(file)];
    if (!webDir || type === undefined || !/^[a-z0-9][a-z0-9._-]*$/i.test(file) || !existsSync(join(webDir, file))) {
      return reply.code(404).type('application/json').send('{"detail":"Not Found"}');
    }
    let body = cache.get(file);
    if (body === undefined) {
      body = readFileSync(join(webDir, file));
      cache.set(file, body);
    }
    return reply
      .type(type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'self'; img-src 'self' http: https: data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
      .send(body);
  };

  fastify.get('/', async (_request, reply) => sendFile(reply, 'index.html'));
  fastify.get<{ Params: { file: string } }>('/ui/static/:file', async (request, reply) => sendFile(reply, request.params.file));
  fastify.get('/ui/pipeline-status', async (request, reply) => {
    if (checkAuth && !checkAuth(request.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer').type('application/json').send('{"exception_message":"Unauthorized"}');
    }
    return reply.type('application/json').header('cache-control', 'no-store').send(JSON.stringify(await watcher.status()));
  });
}
