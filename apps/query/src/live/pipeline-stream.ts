import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChangeFeed } from './change-feed';
import { sseFrame, sseHeaders } from './live-view';

// GET /ui/pipeline-status/subscribe: the web page's pipeline panel, pushed instead of
// polled (issue #15, point 3). One broadcaster per query process: it hears commits
// from the change feed's single LISTEN (no table reads of its own), reads the ingest
// app's status at most once per second however many pages are open, and sends it to
// every open panel. A slow heartbeat re-sends the status, since lag and freshness
// change without a commit (an ingest app that stopped, a batch of dead letters only).

const MIN_INTERVAL_MS = 1000;
// A panel this far behind (bytes queued on its socket) is cut off; it reconnects.
const MAX_BUFFERED = 1024 * 1024;

interface Client {
  /** Writes SSE text; false once the panel is gone. */
  write(text: string): boolean;
  /** Ends the stream (the app is closing). */
  end(): void;
}

export class PipelineBroadcast {
  private readonly clients = new Set<Client>();
  private stopWatching?: () => void;
  private heartbeat?: NodeJS.Timeout;
  private pending?: NodeJS.Timeout;
  /** The earliest commit announced and not yet covered by a status read. */
  private dueSince?: number;
  private lastPush = 0;

  constructor(
    private readonly feed: ChangeFeed,
    /** The status to send (GET /ui/pipeline-status's answer), read no earlier than `notBefore`. */
    private readonly status: (notBefore: number) => Promise<unknown>,
    private readonly options: { heartbeatMs: number; now?: () => number },
  ) {}

  /** Adds a panel: it gets the status now, then on each commit (throttled) and each heartbeat. Returns its removal. */
  add(client: Client): () => void {
    this.clients.add(client);
    if (this.clients.size === 1) {
      this.stopWatching = this.feed.onCommit(() => this.committed());
      this.heartbeat = setInterval(() => void this.push(this.now() - MIN_INTERVAL_MS + 1), this.options.heartbeatMs).unref();
    }
    void this.status(this.now() - MIN_INTERVAL_MS + 1).then((status) => client.write(frame(status)), () => undefined);
    return () => this.remove(client);
  }

  close(): void {
    for (const client of [...this.clients]) {
      this.remove(client);
      client.end();
    }
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client) || this.clients.size > 0) return;
    this.stopWatching?.();
    this.stopWatching = undefined;
    clearInterval(this.heartbeat);
    clearTimeout(this.pending);
    this.pending = undefined;
    this.dueSince = undefined;
  }

  private committed(): void {
    this.dueSince ??= this.now();
    if (this.pending) return;
    const wait = Math.max(0, this.lastPush + MIN_INTERVAL_MS - this.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      const since = this.dueSince as number;
      this.dueSince = undefined;
      void this.push(since);
    }, wait);
  }

  private async push(notBefore: number): Promise<void> {
    if (this.clients.size === 0) return;
    this.lastPush = this.now();
    const status = await this.status(notBefore).catch(() => undefined);
    if (status === undefined) return;
    const text = frame(status);
    for (const client of [...this.clients]) client.write(text);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

const frame = (status: unknown) => sseFrame({ event: 'status', data: JSON.stringify(status) });

export const PIPELINE_STREAM_PATH = '/ui/pipeline-status/subscribe';

export function registerPipelineStream(fastify: FastifyInstance, broadcast: PipelineBroadcast, checkAuth: ((header: string | undefined) => boolean) | undefined): void {
  fastify.get(PIPELINE_STREAM_PATH, async (request: FastifyRequest, reply: FastifyReply) => {
    if (checkAuth && !checkAuth(request.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer').type('application/json').send('{"exception_message":"Unauthorized"}');
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, sseHeaders(String(request.id)));
    let remove: (() => void) | undefined;
    let gone = false;
    const end = () => {
      if (gone) return;
      gone = true;
      remove?.();
      raw.end();
    };
    raw.on('close', end);
    const write = (text: string) => {
      if (gone) return false;
      raw.write(text);
      if (raw.writableLength > MAX_BUFFERED) end();
      return !gone;
    };
    remove = broadcast.add({ write, end });
    if (gone) remove();
  });
}
