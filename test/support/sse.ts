// A Server-Sent Events client for the tests: the parsing rules of the WHATWG
// EventSource (an `id:` line moves the last event id even in a block that
// dispatches no event), over fetch, so headers such as Authorization can be set.

export interface SseEvent {
  event: string;
  id: string;
  data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  lastEventId = '';
  ended = false;
  private waiters: (() => void)[] = [];
  private readonly abort = new AbortController();

  private constructor(readonly response: Response) {}

  static async open(url: string, init: RequestInit = {}): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, { ...init, signal: controller.signal });
    const client = new SseClient(response);
    client.abort.signal.addEventListener('abort', () => controller.abort());
    if (response.ok && response.body) void client.read(response.body);
    return client;
  }

  close(): void {
    this.abort.abort();
  }

  /** Waits until `probe` holds over what was received (the stream's own progress), or fails after `timeoutMs`. */
  async until(what: string, probe: (client: SseClient) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!probe(this)) {
      if (this.ended) throw new Error(`stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events.map((e) => e.event))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let event = '';
    let data: string[] = [];
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            if (data.length > 0) this.events.push({ event: event || 'message', id: this.lastEventId, data: data.join('\n') });
            event = '';
            data = [];
            continue;
          }
          if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trim());
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id') this.lastEventId = value;
        }
        this.notify();
      }
    } catch {
      // aborted or reset
    } finally {
      this.ended = true;
      this.notify();
    }
  }
}

/** The rows by key a client holds after applying snapshot, upsert and remove events in order. */
export function liveState(events: readonly SseEvent[]): Map<string, Record<string, unknown>> {
  const state = new Map<string, Record<string, unknown>>();
  for (const e of events) {
    if (e.event === 'snapshot') {
      state.clear();
      for (const row of (JSON.parse(e.data) as { artifacts: Record<string, unknown>[] }).artifacts) state.set(row.key as string, row);
    } else if (e.event === 'upsert') {
      const row = JSON.parse(e.data) as Record<string, unknown>;
      state.set(row.key as string, row);
    } else if (e.event === 'remove') state.delete((JSON.parse(e.data) as { key: string }).key);
  }
  return state;
}
