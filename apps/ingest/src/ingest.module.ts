import { DynamicModule, Module } from '@nestjs/common';
import { HealthController } from './health/health.controller';
import { INGEST_RUNTIME, IngestRuntime } from './ingest.runtime';

@Module({})
export class IngestModule {
  static register(runtime: IngestRuntime): DynamicModule {
    return {
      module: IngestModule,
      controllers: [HealthController],
      providers: [{ provide: INGEST_RUNTIME, useValue: runtime }],
    };
  }
}
