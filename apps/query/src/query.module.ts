import { randomUUID } from 'node:crypto';
import { readEnvironment } from '@app/contracts';
import { nestLogger } from '@app/logging';
import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ArtifactReadModel } from './artifacts/artifact-read-model';
import { ArtifactsController } from './artifacts/artifacts.controller';
import { ApiPreconditionsGuard } from './http/api-preconditions.guard';
import { registerDocs } from './http/docs';
import { BODY_LIMIT, configureFastify, invalidHttpRequestHandler, undecodablePathHandler } from './http/fastify-setup';
import { HealthController } from './http/health.controller';
import { registerMetrics } from './http/metrics';
import { registerReadOnlyWrites } from './http/read-only';
import { registerRequestLog } from './http/request-log';
import { registerWebUi } from './http/web-ui';
import { openApiDocument } from './http/openapi';
import { PrefectExceptionFilter } from './http/prefect-exception.filter';
import { ReadAfter } from './http/read-after';
import { QUERY_CONFIG, QueryConfig } from './query.config';
import { QueryDatabase } from './query-database';
import { createQueryLogger } from './query.logger';
import { ChangeFeed } from './live/change-feed';
import { registerSubscriptions } from './live/subscribe-routes';
import { UiApiController } from './ui-api/ui-api.controller';
import { UiReadModel } from './ui-api/ui-read-model';

@Module({})
export class QueryModule {
  static forRoot(config: QueryConfig, db: QueryDatabase, readAfter: ReadAfter): DynamicModule {
    return {
      module: QueryModule,
      controllers: [ArtifactsController, HealthController, UiApiController],
      providers: [
        { provide: QUERY_CONFIG, useValue: config },
        { provide: QueryDatabase, useValue: db },
        { provide: ArtifactReadModel, useValue: new ArtifactReadModel(db) },
        { provide: UiReadModel, useValue: new UiReadModel(db) },
        { provide: ReadAfter, useValue: readAfter },
        ApiPreconditionsGuard,
      ],
    };
  }
}

/**
 * Builds the query app: connects to PostgreSQL (migrating only if the schema
 * is behind, see QueryDatabase.open), wires Prefect's HTTP behaviour, and
 * initialises Nest. It does not listen; see startQueryApp. Closing the app
 * closes the pool. Throws StartupError when PostgreSQL is unusable.
 */
export async function createQueryApp(config: QueryConfig, logger: Logger = createQueryLogger(config.logLevel)): Promise<NestFastifyApplication> {
  const db = await QueryDatabase.open(config.databaseUrl, 10, { readUrls: config.readUrls, maxStalenessMs: config.maxStalenessMs, parallelWorkers: config.parallelWorkers });
  const waiter = readAfter(config, db);
  const feed = new ChangeFeed(db.primaryFeed(), logger);
  try {
    const adapter = new FastifyAdapter({
      bodyLimit: BODY_LIMIT,
      // A caller's own x-request-id (letters, digits, dots, dashes, underscores; at most 64) is kept, else a
      // UUID. No requestIdHeader: with one, Fastify would take any header value as it is, skipping this check.
      genReqId: (request: { headers: Record<string, unknown> }) => {
        const given = request.headers['x-request-id'];
        return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
      },
      // A path Fastify cannot decode (e.g. "%", "%E9") is routed as Starlette routes it.
      frameworkErrors: undecodablePathHandler({ authToken: config.authToken }),
      // A request Node cannot parse (a raw non-ASCII byte in the path) answers as uvicorn does.
      clientErrorHandler: invalidHttpRequestHandler,
      // FastAPI routes answer HEAD with 405 (routes.ts); Fastify would add a HEAD route per GET route.
      exposeHeadRoutes: false,
      // Starlette routes a path segment of any length (a 295-character key); find-my-way stops at 100.
      routerOptions: { maxParamLength: 1 << 20 },
    } as unknown as ConstructorParameters<typeof FastifyAdapter>[0]);
    const app = await NestFactory.create<NestFastifyApplication>(QueryModule.forRoot(config, db, waiter), adapter, {
      bodyParser: false,
      logger: nestLogger(logger),
    });
    // Nest bundles its own copy of Fastify; the API is the same, only the type identities differ.
    const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
    configureFastify(fastify, { authToken: config.authToken });
    registerRequestLog(fastify, logger);
    registerMetrics(fastify, () => db.poolStats(), () => db.readPools());
    registerReadOnlyWrites(fastify);
    const heartbeatMs = (config.subscribeHeartbeatSeconds ?? 15) * 1000;
    registerSubscriptions(fastify, {
      feed,
      readAfter: waiter,
      defaultLimit: config.defaultLimit,
      heartbeatMs,
      retentionSeconds: config.subscribeRetentionSeconds ?? 3600,
      logger,
    });
    registerDocs(fastify, openApiDocument({ defaultLimit: config.defaultLimit, auth: config.authToken !== undefined }));
    registerWebUi(fastify, { ingestUrl: config.ingestUrl ?? 'http://127.0.0.1:4201', authToken: config.authToken, feed, heartbeatMs });
    app.useGlobalFilters(new PrefectExceptionFilter(logger));
    // Open streams would hold the server's close forever: end them first.
    fastify.addHook('preClose', async () => feed.close());
    fastify.addHook('onClose', async () => db.close());
    await app.init();
    return app;
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** createQueryApp, then listen on 0.0.0.0:config.port (0 picks a free port); returns the base URL to reach it. */
export async function startQueryApp(config: QueryConfig, logger?: Logger): Promise<{ app: NestFastifyApplication; url: string }> {
  const app = await createQueryApp(config, logger);
  await app.listen(config.port, '0.0.0.0');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}` };
}

/** The consistency-token wait, with the environment's defaults for what a test's config leaves out. */
function readAfter(config: QueryConfig, db: QueryDatabase): ReadAfter {
  const defaults = readEnvironment({}, ['KAFKA_GROUP_ID', 'ARTIFACT_TOPIC', 'RUN_TOPIC', 'QUERY_READ_AFTER_TIMEOUT_MS']);
  return new ReadAfter(db, {
    groupId: config.groupId ?? defaults.KAFKA_GROUP_ID,
    topics: config.topics ?? [defaults.ARTIFACT_TOPIC, defaults.RUN_TOPIC],
    timeoutMs: config.readAfterTimeoutMs ?? defaults.QUERY_READ_AFTER_TIMEOUT_MS,
  });
}
