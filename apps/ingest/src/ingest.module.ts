import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { HealthController } from './health/health.controller';
import { httpLogOptions } from './ingest.logger';
import { INGEST_RUNTIME, IngestRuntime } from './ingest.runtime';

@Module({})
export class IngestModule {
  static register(runtime: IngestRuntime, logger: Logger): DynamicModule {
    return {
      module: IngestModule,
      imports: [LoggerModule.forRoot({ pinoHttp: httpLogOptions(logger) })],
      controllers: [HealthController],
      providers: [{ provide: INGEST_RUNTIME, useValue: runtime }],
    };
  }
}
