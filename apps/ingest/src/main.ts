import 'reflect-metadata';
import { ConfigError, loadIngestConfig } from './ingest.config';
import { startIngest } from './ingest.app';
import { scrubber, secretsFromEnv } from './ingest.logger';

// SIGTERM finishes or rolls back the batch in flight; never take longer than this.
const SHUTDOWN_DEADLINE_MS = 9_000;

async function main(): Promise<void> {
  const config = loadIngestConfig();
  const app = await startIngest(config);
  const stop = (signal: string) => {
    setTimeout(() => {
      process.stderr.write(`ingest: ${signal}: shutdown took too long, exiting\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`ingest: shutdown failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: Error) => {
  const prefix = error instanceof ConfigError ? 'invalid configuration: ' : '';
  const scrub = scrubber(secretsFromEnv(process.env));
  process.stderr.write(scrub(`ingest: ${prefix}${error.message.split('\n')[0]}\n`));
  process.exit(1);
});
