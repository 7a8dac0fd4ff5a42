import { onStopSignal } from './stop-signal'; // first: it listens while the rest loads
import 'reflect-metadata';
import { ConfigError, loadIngestConfig } from './ingest.config';
import { IngestApp, startIngest } from './ingest.app';
import { scrubber, secretsFromEnv } from './ingest.logger';

// SIGTERM finishes or rolls back the batch in flight; never take longer than this.
const SHUTDOWN_DEADLINE_MS = 9_000;

async function main(): Promise<void> {
  const config = loadIngestConfig();
  // Listening before start-up: a signal that arrives meanwhile closes the app as soon as
  // it is up (its consumer may already hold a batch), instead of killing it half-started.
  let app: IngestApp | undefined;
  let stopping: string | undefined;
  const stop = (signal: string) => {
    setTimeout(() => {
      process.stderr.write(`ingest: ${signal}: shutdown took too long, exiting\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    stopping = signal;
    app?.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`ingest: shutdown failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  onStopSignal(stop);
  app = await startIngest(config);
  if (stopping) stop(stopping);
}

main().catch((error: Error) => {
  const prefix = error instanceof ConfigError ? 'invalid configuration: ' : '';
  const scrub = scrubber(secretsFromEnv(process.env));
  process.stderr.write(scrub(`ingest: ${prefix}${error.message.split('\n')[0]}\n`));
  process.exit(1);
});
