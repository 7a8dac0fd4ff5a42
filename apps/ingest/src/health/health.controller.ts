import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
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

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async metrics(): Promise<string> {
    await this.runtime.progress.report().catch(() => undefined);
    return this.runtime.metrics.registry.metrics();
  }
}
