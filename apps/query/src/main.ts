import cluster, { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { ConfigError, loadQueryConfig } from './query.config';
import { StartupError } from './query-database';
import { createQueryLogger } from './query.logger';
import { startQueryApp } from './query.module';

// Configured only by the environment (docs/operations.md). A bad setting or an
// unusable PostgreSQL ends the process with one line on stderr, no stack.
async function main(): Promise<void> {
  const config = loadQueryConfig(process.env);
  const logger = createQueryLogger(config.logLevel);
  const workers = config.workers ?? 1;
  if (workers > 1 && cluster.isPrimary) {
    runPrimary(workers, logger);
    return;
  }
  const { app, url } = await startQueryApp(config, logger);
  logger.info({ port: config.port, url: url.replace('127.0.0.1', '0.0.0.0'), docs: '/docs' }, 'query started');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

/**
 * QUERY_WORKERS > 1: this process only forks the workers, which share the port
 * (node:cluster hands connections out round-robin). A worker that dies after it
 * listened is replaced; one that dies before (bad DATABASE_URL, schema) would
 * die again, so the primary stops every worker and exits 1. SIGTERM/SIGINT go
 * to every worker; the primary exits when they all have.
 */
function runPrimary(count: number, logger: Logger): void {
  let stopping = false;
  let failed = false;
  const listened = new WeakSet<Worker>();
  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => listened.add(worker));
  };
  cluster.on('exit', (worker, code, signal) => {
    const alive = Object.keys(cluster.workers ?? {}).length;
    if (stopping) {
      if (alive === 0) process.exit(failed ? 1 : 0);
      return;
    }
    if (!listened.has(worker)) {
      logger.error({ worker: worker.process.pid, code, signal }, 'query worker failed to start; stopping');
      failed = true;
      stop();
      if (alive === 0) process.exit(1);
      return;
    }
    logger.warn({ worker: worker.process.pid, code, signal }, 'query worker exited; starting another');
    fork();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
  for (let i = 0; i < count; i++) fork();
  logger.info({ workers: count }, 'query primary started');
}

main().catch((e: unknown) => {
  const known = e instanceof ConfigError || e instanceof StartupError;
  process.stderr.write(`query: ${known ? e.message : `failed to start: ${(e as Error)?.message ?? String(e)}`}\n`);
  process.exit(1);
});
