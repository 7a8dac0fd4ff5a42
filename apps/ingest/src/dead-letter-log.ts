import type { Logger } from 'pino';

export interface DeadLetterFields {
  reason: string;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * One warning per dead letter, at most `limit` per window: a flood of poison
 * (a producer gone wrong) must not flood the logs too. What is held back is
 * counted by reason and reported in one warning when its window ends. The
 * payload is never logged (it may hold anything); `events tail --dlq` shows it.
 */
export class DeadLetterLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private logged = 0;
  private held = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly limit = 10,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  note(fields: DeadLetterFields, dlqTopic: string): void {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = now;
      this.logged = 0;
    }
    if (this.logged < this.limit) {
      this.logged++;
      this.logger.warn({ ...fields, dlqTopic }, 'message dead-lettered');
      return;
    }
    this.held.set(fields.reason, (this.held.get(fields.reason) ?? 0) + 1);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.windowStart + this.windowMs - now));
      this.timer.unref();
    }
  }

  /** Reports what was held back, if anything. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.held.size === 0) return;
    const byReason = Object.fromEntries(this.held);
    const count = [...this.held.values()].reduce((a, b) => a + b, 0);
    this.held.clear();
    this.logger.warn({ count, byReason, windowSeconds: this.windowMs / 1000 }, `${count} more messages dead-lettered (not logged one by one)`);
  }
}
