import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { CountSeries, IngestStatus } from '@app/contracts';
import { INGEST_RUNTIME, IngestRuntime } from '../ingest.runtime';

@Controller()
export class HealthController {
  constructor(@Inject(INGEST_RUNTIME) private readonly runtime: IngestRuntime) {}

  @Get('health')
  health(@Res() reply: FastifyReply): void {
    const connected = this.runtime.runner.isConsuming();
    void reply.status(connected ? 200 : 503).send({ status: connected ? 'ok' : 'consumer not connected' });
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    try {
      const report = await this.runtime.progress.report();
      void reply.status(report.caught_up ? 200 : 503).send(report);
    } catch (error) {
      void reply.status(503).send({ caught_up: false, error: (error as Error).message });
    }
  }

  /**
   * The pipeline in one JSON answer, for the query app's web page: counts over
   * the last 15 minutes kept by this process as batches commit (not sampled by
   * a reader), process-lifetime totals, the durable totals of the checkpoint
   * rows, and per-partition lag and freshness; `since_start.counts` has every
   * series of the event counters and `since_start.batches` the batch histograms'
   * counts and sums per topic, for tools, tests and the bench (they read no
   * Prometheus text). Always 200; what could not be read is null with an `error`.
   */
  @Get('status')
  async status(@Res() reply: FastifyReply): Promise<void> {
    const { metrics, progress } = this.runtime;
    const window = metrics.recent.sum();
    const lastMinute = metrics.recent.sum(60_000);
    const [counts, batches] = [await metrics.counts(), await metrics.batchTotals()];
    const total = (series: CountSeries[]) => series.reduce((sum, s) => sum + s.count, 0);
    const errors: string[] = [];
    const [report, durable] = await Promise.all([
      progress.report().catch((e: Error) => void errors.push(e.message)),
      progress.durableTotals().catch((e: Error) => void errors.push(e.message)),
    ]);
    const seconds = (from: number, to: number) => Math.max(0.001, (to - from) / 1000);
    const body: IngestStatus = {
      started_at: new Date(metrics.recent.startedAt).toISOString(),
      window: {
        seconds: metrics.recent.windowMs / 1000,
        from: new Date(window.from).toISOString(),
        to: new Date(window.to).toISOString(),
        applied: window.applied,
        dead_lettered: window.deadLettered,
      },
      events_per_second: Math.round((lastMinute.applied / seconds(lastMinute.from, lastMinute.to)) * 100) / 100,
      since_start: { applied: total(counts.applied), dead_lettered: total(counts.dead_lettered), counts, batches },
      durable: durable ?? null,
      caught_up: report ? report.caught_up : null,
      partitions: report
        ? report.partitions.map((p) => ({ ...p, freshness_seconds: metrics.freshnessOf(p.topic, p.partition) ?? null }))
        : [],
      ...(errors.length ? { error: errors.join('; ') } : {}),
    };
    void reply.header('cache-control', 'no-store').send(body);
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    await this.runtime.progress.report().catch(() => undefined);
    return this.runtime.metrics.registry.metrics();
  }
}
