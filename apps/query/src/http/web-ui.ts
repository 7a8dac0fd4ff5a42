import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { IngestStatus } from '@app/contracts';
import type { ChangeFeed } from '../live/change-feed';
import { PipelineBroadcast, registerPipelineStream } from '../live/pipeline-stream';
import { bearerCheck } from './fastify-setup';

// The artifacts web page (issue #8): `/` and its static files under `/ui/`
// (built from the repository's `web/` folder into `dist/web/`), plus
// `GET /ui/pipeline-status`, which relays the ingest app's GET /status
// server-side so the browser needs only this origin, and its live form
// `GET /ui/pipeline-status/subscribe` (apps/query/src/live/pipeline-stream.ts). Outside /api, so none of
// Prefect's routes are touched. The page's data routes are under /ui-api
// (apps/query/src/ui-api/).

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

export interface PipelineStatus {
  ingest_url: string;
  reachable: boolean;
  error?: string;
  ingest: IngestStatus | null;
  read_at: string;
}

/**
 * Relays the ingest app's own counters. Nothing is sampled here: the windowed
 * counts are kept by the ingest process as its batches commit, so they do not
 * depend on a page being open.
 */
export class PipelineWatcher {
  private inflight?: { at: number; read: Promise<PipelineStatus> };
  private last?: { at: number; status: PipelineStatus };

  constructor(
    private readonly ingestUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * At most one request to the ingest app per second, whatever the number of open pages.
   * `notBefore` (epoch ms) asks for a status read no earlier than then: the live panel
   * passes the moment a commit was announced, so it is not given a status from before it.
   */
  status(notBefore: number = this.now() - 999): Promise<PipelineStatus> {
    if (this.last && this.last.at >= notBefore) return Promise.resolve(this.last.status);
    if (this.inflight && this.inflight.at >= notBefore) return this.inflight.read;
    const at = this.now();
    const read = this.read(at).finally(() => {
      if (this.inflight?.read === read) this.inflight = undefined;
    });
    this.inflight = { at, read };
    return read;
  }

  private async read(at: number): Promise<PipelineStatus> {
    const base = this.ingestUrl.replace(/\/+$/, '');
    const status: PipelineStatus = { ingest_url: base, reachable: false, ingest: null, read_at: new Date(at).toISOString() };
    try {
      const response = await this.fetchImpl(`${base}/status`, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`GET /status answered ${response.status}`);
      status.ingest = (await response.json()) as IngestStatus;
      status.reachable = true;
    } catch (e) {
      status.error = (e as Error).message;
    }
    if (!this.last || this.last.at <= at) this.last = { at, status };
    return status;
  }
}

export interface WebUiOptions {
  ingestUrl: string;
  authToken?: string;
  webDir?: string;
  /** The query app's change feed: with it, GET /ui/pipeline-status/subscribe pushes the status on each commit. */
  feed?: ChangeFeed;
  heartbeatMs?: number;
}

export function registerWebUi(fastify: FastifyInstance, options: WebUiOptions): void {
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
  if (options.feed) {
    const broadcast = new PipelineBroadcast(options.feed, (notBefore) => watcher.status(notBefore), { heartbeatMs: options.heartbeatMs ?? 15_000 });
    registerPipelineStream(fastify, broadcast, checkAuth);
    fastify.addHook('preClose', async () => broadcast.close());
  }
}
