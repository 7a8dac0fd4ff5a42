import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { openDatabase, pruneChanges, sqlOf } from '@app/persistence';
import { dlqTopic } from '@app/contracts';
import { nestLogger } from '@app/logging';
import { ConsumerProgress } from './consumer-progress';
import { IngestConfig } from './ingest.config';
import { createIngestLogger, requestId, secretsOf } from './ingest.logger';
import { IngestMetrics } from './ingest.metrics';
import { IngestModule } from './ingest.module';
import { IngestRuntime } from './ingest.runtime';
import { KafkaAdapter } from './kafka/kafka.adapter';
import { ProjectionRunner } from './projection-runner';

export interface IngestApp {
  runtime: IngestRuntime;
  url: string;
  close(): Promise<void>;
}

/** Connects to PostgreSQL (migrating it) and Kafka, creates missing topics, starts consuming and serving probes. */
export async function startIngest(config: IngestConfig, logger: Logger = createIngestLogger(config.logLevel, secretsOf(config.databaseUrl, config.kafkaSecurity.sasl?.password))): Promise<IngestApp> {
  const dataSource = await openDatabase({ url: config.databaseUrl, applicationName: 'artifact-ingest', poolSize: 4 }).catch((error: Error) => {
    throw new Error(`cannot open PostgreSQL at ${redact(config.databaseUrl)}: ${error.message}`);
  });
  const kafka = new KafkaAdapter({ clientId: 'artifact-ingest', brokers: config.brokers, security: config.kafkaSecurity });
  try {
    await kafka.connect().catch((error: Error) => {
      throw new Error(`cannot reach Kafka at ${config.brokers.join(',')}: ${error.message}`);
    });
    const topics = [config.artifactTopic, config.runTopic];
    await kafka.ensureTopics([...topics, ...topics.map(dlqTopic)], config.topicPartitions, config.replicationFactor);
    const metrics = new IngestMetrics({ artifacts: config.artifactTopic, runs: config.runTopic });
    const runner = new ProjectionRunner({
      partitionConcurrency: config.partitionConcurrency,
      dataSource,
      kafka,
      metrics,
      logger,
      groupId: config.groupId,
      artifactTopic: config.artifactTopic,
      runTopic: config.runTopic,
      testHooks: config.testHooks,
    });
    const progress = new ConsumerProgress(dataSource, kafka, config.groupId, topics, metrics);
    const runtime: IngestRuntime = { config, dataSource, kafka, metrics, progress, runner };

    const app = await NestFactory.create<NestFastifyApplication>(IngestModule.register(runtime, logger), new FastifyAdapter({ genReqId: requestId }), { logger: nestLogger(logger) });
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', async (request, reply) => {
        void reply.header('x-request-id', request.id);
      });
    await app.listen(config.port, '0.0.0.0');
    await runner.start(topics);
    const retention = config.changeRetentionSeconds ?? 3600;
    // The subscriptions' change log (docs/api.md, "Subscriptions"): what is older than the retention goes.
    const pruning = setInterval(() => {
      pruneChanges(sqlOf(dataSource), retention).catch((error: Error) => logger.warn({ err: error }, 'cannot prune collection changes'));
    }, Math.min(60, retention) * 1000);
    pruning.unref();
    logger.info({ port: config.port, topics, groupId: config.groupId }, 'ingest started');

    let closing: Promise<void> | undefined;
    return {
      runtime,
      url: await app.getUrl(),
      close() {
        closing ??= (async () => {
          clearInterval(pruning);
          await runner.stop();
          await app.close();
          await kafka.disconnect();
          await dataSource.destroy();
        })();
        return closing;
      },
    };
  } catch (error) {
    await kafka.disconnect();
    await dataSource.destroy();
    throw error;
  }
}

export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
