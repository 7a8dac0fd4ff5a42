import type { DataSource } from '@app/persistence';
import { ConsumerProgress } from './consumer-progress';
import { IngestConfig } from './ingest.config';
import { IngestMetrics } from './ingest.metrics';
import { KafkaAdapter } from './kafka/kafka.adapter';
import { ProjectionRunner } from './projection-runner';

export const INGEST_RUNTIME = Symbol('INGEST_RUNTIME');

/** The objects made at start-up, handed to Nest's edges (controllers) as one value. */
export interface IngestRuntime {
  config: IngestConfig;
  dataSource: DataSource;
  kafka: KafkaAdapter;
  metrics: IngestMetrics;
  progress: ConsumerProgress;
  runner: ProjectionRunner;
}
