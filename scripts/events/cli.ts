// Small shared pieces of the events CLI: errors with exit codes, option parsing,
// and the environment of docs/operations.md.
import { ConfigError, KafkaSecurity, readEnvironment, readKafkaSecurity } from '@app/contracts';

/** An error shown as one line `events: <message>`, exiting with `code` (1 failure, 2 usage). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

export type OptionKind = 'flag' | 'string' | 'number';

export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | number | boolean | undefined>;
}

/** `--name value`, `--name=value`, `--flag`; `-` alone is positional (stdin); `--` ends the options. */
export function parseArgs(argv: string[], spec: Record<string, OptionKind>): ParsedArgs {
  const positional: string[] = [];
  const options: ParsedArgs['options'] = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const kind = spec[name];
    if (kind === undefined) throw new CliError(`unknown option --${name}`, 2);
    if (kind === 'flag') {
      if (eq !== -1) throw new CliError(`--${name} takes no value`, 2);
      options[name] = true;
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '') throw new CliError(`--${name} needs a value`, 2);
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new CliError(`--${name} must be a non-negative number, got "${value}"`, 2);
      options[name] = n;
    } else {
      options[name] = value;
    }
  }
  return { positional, options };
}

export interface CliEnv {
  brokers: string[];
  artifactTopic: string;
  runTopic: string;
  ingestUrl: string;
  /** `publish --wait` asks the query app (QUERY_URL, with API_AUTH_TOKEN when set). */
  queryUrl: string;
  apiAuthToken?: string;
  security: KafkaSecurity;
}

/** The same variables (and defaults) as the apps: KAFKA_BROKERS, ARTIFACT_TOPIC, RUN_TOPIC, KAFKA_SSL*, KAFKA_SASL_*, plus INGEST_URL, QUERY_URL, API_AUTH_TOKEN; a bad one is a usage error. */
export function readEnv(env: NodeJS.ProcessEnv): CliEnv {
  try {
    const v = readEnvironment(env, ['KAFKA_BROKERS', 'ARTIFACT_TOPIC', 'RUN_TOPIC', 'INGEST_URL', 'QUERY_URL', 'API_AUTH_TOKEN']);
    return {
      brokers: v.KAFKA_BROKERS,
      artifactTopic: v.ARTIFACT_TOPIC,
      runTopic: v.RUN_TOPIC,
      ingestUrl: v.INGEST_URL,
      queryUrl: v.QUERY_URL,
      apiAuthToken: v.API_AUTH_TOKEN,
      security: readKafkaSecurity(env),
    };
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** `artifacts` / `runs` name the configured topics; anything else is a topic name. Without `--topic`: both. */
export function resolveTopics(env: CliEnv, topic: string | undefined): string[] {
  if (topic === undefined) return [env.artifactTopic, env.runTopic];
  if (topic === 'artifacts') return [env.artifactTopic];
  if (topic === 'runs') return [env.runTopic];
  return [topic];
}
