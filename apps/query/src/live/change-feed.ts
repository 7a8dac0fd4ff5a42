import { ArtifactQueryFilters, ArtifactSort, candidates, LiveMatch, liveMatchesStatement, liveRow, liveRowsStatement, liveStatement, liveTest, LiveTest } from '@app/filters';
import { CHANGE_CHANNEL, ChangePosition, changesBetween, CollectionChange, comparePositions, prunedPosition, readChanges, settledPosition } from '@app/persistence';
import type { Client } from 'pg';
import type { Logger } from 'pino';
import type { ChangeFeedDatabase } from '../query-database';
import { ChangedRows, formatPosition, lastPerKey, LiveView, SnapshotReason, snapshotFrame, sseFrame } from './live-view';

// One per query process: a single LISTENing connection wakes it when an ingest
// transaction commits collection changes; it reads the new settled changes once
// and re-evaluates only those keys, once per distinct filter among the open
// subscriptions: the changed rows are read once and most filters decided here
// (liveTest), the rest by one read for all of them. A slow poll covers what a
// notification cannot (a standby, a lost connection, a change held back by an
// older running transaction).

const READ_BATCH = 5_000;
const POLL_MS = 500;

export interface LiveFilter {
  filters: ArtifactQueryFilters<'artifact_collection'>;
  sort: ArtifactSort;
}

export interface Subscriber {
  filter: LiveFilter;
  /** Writes SSE text to the client; false once the client is gone or too far behind. */
  write(text: string): boolean;
  /** Ends the stream (the app is closing). */
  end(): void;
}

/** A distinct filter: its group id (the filter as JSON) and its test in the app. */
interface Compiled extends LiveTest {
  id: string;
  filters: LiveFilter['filters'];
}

export interface Open {
  subscriber: Subscriber;
  view: LiveView;
  /** Changes up to here have been evaluated for this subscriber. */
  position: ChangePosition;
}

export class ChangeFeed {
  private listener?: Client;
  private cursor?: ChangePosition;
  private readonly open = new Set<Open>();
  private readonly commitWatchers = new Set<() => void>();
  private readonly compiledFilters = new WeakMap<LiveFilter, Compiled>();
  private chain: Promise<unknown> = Promise.resolve();
  private draining = false;
  private poll?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly db: ChangeFeedDatabase,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts a subscriber: a snapshot, or (with a retained `resumeAfter`) the keys
   * changed since then. Returns the handle to close it with, or undefined when the
   * feed is closing.
   */
  subscribe(subscriber: Subscriber, resumeAfter: ChangePosition | undefined): Promise<Open | undefined> {
    return this.serially(async () => {
      if (this.closed) return undefined;
      await this.catchUp();
      const cursor = this.cursor as ChangePosition;
      let entry: Open | undefined;
      let reason: SnapshotReason = resumeAfter === undefined ? 'new' : 'expired';
      if (resumeAfter !== undefined && comparePositions(resumeAfter, await prunedPosition(this.db.sql())) >= 0 && comparePositions(resumeAfter, cursor) <= 0) {
        const changes = await changesBetween(this.db.sql(), resumeAfter, cursor);
        if (changes.some((c) => c.key === null)) reason = 'reset';
        else {
          entry = { subscriber, view: LiveView.resumed(), position: cursor };
          const changed = lastPerKey(changes);
          const [matching] = await this.matching([this.compiled(subscriber.filter)], changed.map((c) => c.key));
          subscriber.write(entry.view.apply(changed, matching as Map<string, string>).join(''));
        }
      }
      entry ??= await this.snapshot(subscriber, reason, cursor);
      this.open.add(entry);
      this.pollWhileNeeded();
      return entry;
    });
  }

  unsubscribe(entry: Open): void {
    this.open.delete(entry);
    this.pollWhileNeeded();
  }

  /**
   * Calls `watcher` after each feed step that read new changes (an ingest commit that
   * changed collection rows, or a rebuild's swap), from the same single LISTEN. Returns
   * the function that stops it.
   */
  onCommit(watcher: () => void): () => void {
    if (this.closed) return () => undefined;
    this.commitWatchers.add(watcher);
    this.pollWhileNeeded();
    this.wake();
    return () => {
      this.commitWatchers.delete(watcher);
      this.pollWhileNeeded();
    };
  }

  /** The position a heartbeat can carry: everything up to it was evaluated for this subscriber. */
  positionOf(entry: Open): string {
    return formatPosition(entry.position);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.commitWatchers.clear();
    if (this.poll) clearInterval(this.poll);
    await this.chain.catch(() => undefined);
    for (const entry of [...this.open]) entry.subscriber.end();
    this.open.clear();
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  /** A notification or the poll: read what settled since, at most one drain queued at a time. */
  private wake(): void {
    if (this.draining || this.idle()) return;
    this.draining = true;
    void this.serially(async () => {
      this.draining = false;
      await this.catchUp();
    });
  }

  private idle(): boolean {
    return this.open.size === 0 && this.commitWatchers.size === 0;
  }

  private pollWhileNeeded(): void {
    if (this.idle() || this.closed) {
      clearInterval(this.poll);
      this.poll = undefined;
    } else this.poll ??= setInterval(() => this.wake(), POLL_MS).unref();
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work);
    this.chain = next.catch((error: unknown) => this.logger.warn({ err: error }, 'subscriptions: change feed step failed'));
    return next;
  }

  private async catchUp(): Promise<void> {
    await this.ensureListening();
    let read = false;
    for (;;) {
      const changes = await readChanges(this.db.sql(), this.cursor as ChangePosition, READ_BATCH);
      if (changes.length === 0) break;
      read = true;
      await this.dispatch(changes);
      this.cursor = changes[changes.length - 1] as CollectionChange;
      for (const entry of this.open) entry.position = this.cursor;
    }
    if (read) for (const watcher of this.commitWatchers) watcher();
  }

  private async ensureListening(): Promise<void> {
    if (this.listener !== undefined || this.closed) return;
    const lost = (error: Error) => {
      if (this.listener === undefined) return;
      this.logger.warn({ err: error }, 'subscriptions: listening connection lost; polling until it is back');
      const client = this.listener;
      this.listener = undefined;
      void client.end().catch(() => undefined);
    };
    this.listener = await this.db.listen(CHANGE_CHANNEL, () => this.wake(), lost);
    // First connection only: later ones keep the cursor (the poll covered the gap).
    this.cursor ??= await settledPosition(this.db.sql());
  }

  private async dispatch(changes: CollectionChange[]): Promise<void> {
    let resetAt = changes.length - 1;
    while (resetAt >= 0 && (changes[resetAt] as CollectionChange).key !== null) resetAt--;
    if (resetAt >= 0) {
      const at = changes[resetAt] as CollectionChange;
      for (const entry of [...this.open]) {
        this.open.delete(entry);
        this.open.add(await this.snapshot(entry.subscriber, 'reset', at));
      }
      changes = changes.slice(resetAt + 1);
    }
    const changed = lastPerKey(changes);
    if (changed.length === 0) return;
    // Subscribers with the same filter share its evaluation.
    const groups = new Map<string, { compiled: Compiled; entries: Open[] }>();
    for (const entry of this.open) {
      const compiled = this.compiled(entry.subscriber.filter);
      let group = groups.get(compiled.id);
      if (group === undefined) {
        group = { compiled, entries: [] };
        groups.set(compiled.id, group);
      }
      group.entries.push(entry);
    }
    const found = await this.matching([...groups.values()].map((g) => g.compiled), changed.map((c) => c.key));
    const step = new ChangedRows();
    [...groups.values()].forEach((group, i) => {
      // One write per subscriber and step: a chunk of the response, not one per event.
      for (const entry of group.entries) {
        const frames = entry.view.apply(changed, found[i] as Map<string, string>, step);
        if (frames.length > 0) entry.subscriber.write(frames.join(''));
      }
    });
  }

  /** A filter's group id and test, made once per filter object. */
  private compiled(filter: LiveFilter): Compiled {
    let compiled = this.compiledFilters.get(filter);
    if (compiled === undefined) {
      compiled = { id: JSON.stringify(filter.filters), filters: filter.filters, ...liveTest(filter.filters) };
      this.compiledFilters.set(filter, compiled);
    }
    return compiled;
  }

  /**
   * Per filter, the changed keys' rows that match it now (key to JSON). The rows are read once
   * and each filter decided on them here; what the app cannot decide (a run filter, say) goes to
   * one read that evaluates every such filter on just its undecided keys.
   */
  private async matching(filters: readonly Compiled[], keys: readonly string[]): Promise<Map<string, string>[]> {
    const found = filters.map(() => new Map<string, string>());
    if (filters.length === 0) return found;
    type Read = [key: string, latestId: string, type: string | null, flowRunId: string | null, taskRunId: string | null, json: string];
    const read = (await this.db.rows(liveRowsStatement(keys))) as Read[];
    const rows = read.map(([key, latestId, type, flowRunId, taskRunId, json]) => ({ row: liveRow(key, latestId, type, flowRunId, taskRunId), json }));
    const undecided = filters.map((): string[] => []);
    const mayMatch = candidates(filters);
    for (const { row, json } of rows) {
      for (const i of mayMatch(row)) {
        const verdict = (filters[i] as Compiled).verdict(row);
        if (verdict) found[i]?.set(row.key, json);
        else if (verdict === undefined) undecided[i]?.push(row.key);
      }
    }
    const asked: LiveMatch[] = [];
    const askedFound: Map<string, string>[] = [];
    undecided.forEach((keys, i) => {
      if (keys.length === 0) return;
      asked.push({ filters: (filters[i] as Compiled).filters, keys });
      askedFound.push(found[i] as Map<string, string>);
    });
    if (asked.length === 0) return found;
    // A row may have changed again since the first read: each filter's match keeps the row text it was decided on.
    const undecidedKeys = [...new Set(asked.flatMap((m) => m.keys as string[]))];
    const decided = (await this.db.rows(liveMatchesStatement(asked, undecidedKeys))) as [string, string, string][];
    for (const [key, json, hits] of decided) {
      for (let i = 0; i < hits.length; i++) if (hits[i] === '1') askedFound[i]?.set(key, json);
    }
    return found;
  }

  private async snapshot(subscriber: Subscriber, reason: SnapshotReason, at: ChangePosition): Promise<Open> {
    const rows = (await this.db.rows(liveStatement(subscriber.filter.filters, subscriber.filter.sort))) as [string, string][];
    subscriber.write(snapshotFrame(reason, rows.map(([, json]) => json), at));
    return { subscriber, view: LiveView.fromSnapshot(rows), position: at };
  }
}

export { sseFrame };
