import { createHash } from 'node:crypto';
import { ChangePosition, CollectionChange } from '@app/persistence';

// The pure part of a subscription (docs/api.md, "Subscriptions"): resume positions,
// SSE framing, and which events a batch of changed keys gives one subscriber.

/** `<xid>-<id>`: what the `id:` lines carry and `Last-Event-ID` gives back. */
export function formatPosition(p: ChangePosition): string {
  return `${p.xid}-${p.id}`;
}

const POSITION = /^(\d{1,20})-(\d{1,20})$/;

/** A position we wrote, or undefined for anything else. */
export function parsePosition(text: string): ChangePosition | undefined {
  const match = POSITION.exec(text.trim());
  if (!match) return undefined;
  return { xid: BigInt(match[1] as string), id: BigInt(match[2] as string) };
}

export interface SseFrame {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** One SSE block. Data lines are split on line breaks (JSON text may hold them as whitespace only). */
export function sseFrame(frame: SseFrame): string {
  let text = '';
  if (frame.comment !== undefined) text += `: ${frame.comment}\n`;
  if (frame.event !== undefined) text += `event: ${frame.event}\n`;
  if (frame.id !== undefined) text += `id: ${frame.id}\n`;
  if (frame.data !== undefined) for (const line of frame.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** The response head of an event stream: never cached nor buffered by a proxy, tagged with the request's id. */
export function sseHeaders(requestId: string): Record<string, string> {
  return { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-request-id': requestId };
}

/** Why a snapshot is sent: a new subscription, a resume position no longer retained (or unknown), or a rebuild. */
export type SnapshotReason = 'new' | 'expired' | 'reset';

export function snapshotFrame(reason: SnapshotReason, rows: readonly string[], at: ChangePosition): string {
  return sseFrame({ event: 'snapshot', id: formatPosition(at), data: `{"reason":"${reason}","artifacts":[${rows.join(',')}]}` });
}

/** Each key once, at its last position, in position order. */
export function lastPerKey(changes: readonly CollectionChange[]): { key: string; at: ChangePosition }[] {
  const last = new Map<string, ChangePosition>();
  for (const change of changes) {
    if (change.key === null) continue;
    last.delete(change.key);
    last.set(change.key, change);
  }
  return [...last].map(([key, at]) => ({ key, at }));
}

const fingerprint = (json: string) => createHash('md5').update(json).digest('base64');

/** One feed step's changed rows: each row's fingerprint and upsert frame, made once for all subscribers. */
export class ChangedRows {
  private readonly rows = new Map<string, { json: string; print: string; frame: string }>();
  private positions?: Map<string, number>;

  /** Each changed key's place in the step's list (one list per step). */
  placeOf(changed: readonly { key: string }[]): Map<string, number> {
    this.positions ??= new Map(changed.map(({ key }, i) => [key, i]));
    return this.positions;
  }

  of(key: string, at: ChangePosition, json: string): { print: string; frame: string } {
    let row = this.rows.get(key);
    // Two reads of one step may see a key's row at two commits (ChangeFeed.matching): a frame per row text.
    if (row === undefined || row.json !== json) {
      row = { json, print: fingerprint(json), frame: sseFrame({ event: 'upsert', id: formatPosition(at), data: json }) };
      this.rows.set(key, row);
    }
    return row;
  }
}

/**
 * What one subscriber holds, as far as this server knows. After a snapshot it
 * knows every key the client has and a fingerprint of its row, so it sends an
 * upsert only for a row that changed and a remove only for a key the client has.
 * After a resume it does not know the client's rows: every changed key gives an
 * upsert or a remove (a remove of a key the client lacks is a no-op for it).
 */
export class LiveView {
  private constructor(private readonly known: Map<string, string> | undefined) {}

  static fromSnapshot(rows: Iterable<readonly [key: string, json: string]>): LiveView {
    const known = new Map<string, string>();
    for (const [key, json] of rows) known.set(key, fingerprint(json));
    return new LiveView(known);
  }

  static resumed(): LiveView {
    return new LiveView(undefined);
  }

  /** The events for keys changed at their positions, given the rows that match the filter now. */
  apply(changed: readonly { key: string; at: ChangePosition }[], matching: ReadonlyMap<string, string>, step = new ChangedRows()): string[] {
    const frames: string[] = [];
    let keys = changed;
    if (this.known !== undefined && matching.size + this.known.size < changed.length) {
      // Only a matching key or one the client holds can give an event: those alone, in position order.
      const place = step.placeOf(changed);
      const picked: number[] = [];
      const pick = (key: string) => {
        const i = place.get(key);
        if (i !== undefined) picked.push(i);
      };
      for (const key of matching.keys()) pick(key);
      for (const key of this.known.keys()) if (!matching.has(key)) pick(key);
      keys = picked.sort((a, b) => a - b).map((i) => changed[i] as { key: string; at: ChangePosition });
    }
    for (const { key, at } of keys) {
      const json = matching.get(key);
      if (json !== undefined) {
        const { print, frame } = step.of(key, at, json);
        if (this.known?.get(key) === print) continue;
        this.known?.set(key, print);
        frames.push(frame);
      } else if (this.known === undefined || this.known.delete(key)) {
        frames.push(sseFrame({ event: 'remove', id: formatPosition(at), data: JSON.stringify({ key }) }));
      }
    }
    return frames;
  }
}
