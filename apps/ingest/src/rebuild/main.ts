// npm run rebuild [-- --keep-old] [--allow-truncated-log]: rebuilds the read model from
// the topics (offset 0) into shadow tables and swaps them in atomically while the
// ingest and query apps keep running. Configured by the same environment as the
// ingest app (docs/operations.md). See RELIABILITY.md.
import { ConfigError, loadIngestConfig } from '../ingest.config';
import { rebuild } from './rebuild';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--keep-old' && a !== '--allow-truncated-log');
  if (unknown.length) throw new ConfigError(`unknown argument ${unknown[0]} (expected --keep-old, --allow-truncated-log)`);
  const config = loadIngestConfig(process.env);
  const result = await rebuild(config, { keepOld: args.includes('--keep-old'), allowTruncatedLog: args.includes('--allow-truncated-log') });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`rebuild: ${error instanceof ConfigError ? 'invalid configuration: ' : ''}${error.message.split('\n')[0]}\n`);
    process.exit(1);
  },
);
