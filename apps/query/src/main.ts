import { ConfigError, loadQueryConfig } from './query.config';
import { StartupError } from './query-database';
import { createQueryLogger } from './query.logger';
import { startQueryApp } from './query.module';

// Configured only by the environment (docs/operations.md). A bad setting or an
// unusable PostgreSQL ends the process with one line on stderr, no stack.
async function main(): Promise<void> {
  const config = loadQueryConfig(process.env);
  const logger = createQueryLogger(config.logLevel);
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

main().catch((e: unknown) => {
  const known = e instanceof ConfigError || e instanceof StartupError;
  process.stderr.write(`query: ${known ? e.message : `failed to start: ${(e as Error)?.message ?? String(e)}`}\n`);
  process.exit(1);
});
