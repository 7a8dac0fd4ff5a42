// npm run events -- <command>: the tools a producer team and an operator reach for.
// Exit codes: 0 done, 1 failed (or some lines rejected), 2 bad usage.
import { CliError, readEnv } from './events/cli';
import { LAG_HELP, LAG_USAGE, lagCommand } from './events/lag';
import { PUBLISH_HELP, PUBLISH_USAGE, publishCommand } from './events/publish';
import { REPLAY_HELP, REPLAY_USAGE, replayCommand } from './events/replay-dlq';
import { TAIL_HELP, TAIL_USAGE, tailCommand } from './events/tail';

const HELP: Record<string, string> = { publish: PUBLISH_HELP, tail: TAIL_HELP, 'replay-dlq': REPLAY_HELP, lag: LAG_HELP };

const USAGE = `usage (events <command> --help for one command):
  ${PUBLISH_USAGE}
      one event per line: {"type": "...", "data": {...}, ...}, a CloudEvent as on the topic, or a line of tail --json
  ${TAIL_USAGE}
  ${REPLAY_USAGE}
  ${LAG_USAGE}
environment: KAFKA_BROKERS (127.0.0.1:9092), ARTIFACT_TOPIC (prefect.artifacts), RUN_TOPIC (prefect.runs),
  KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM/USERNAME/PASSWORD, INGEST_URL (http://127.0.0.1:4201)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? process.stderr : process.stdout).write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (HELP[command] !== undefined && rest.some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(HELP[command]);
    return 0;
  }
  const env = readEnv(process.env);
  const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  switch (command) {
    case 'publish':
      return publishCommand(rest, env, io);
    case 'tail':
      return tailCommand(rest, env, io);
    case 'replay-dlq':
      return replayCommand(rest, env, io);
    case 'lag':
      return lagCommand(rest, env, io);
    default:
      throw new CliError(`unknown command "${command}"; run with --help for the list`, 2);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    const code = error instanceof CliError ? error.code : 1;
    process.stderr.write(`events: ${error.message.split('\n')[0]}\n`);
    process.exit(code);
  },
);
