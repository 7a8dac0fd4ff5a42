// Small shared pieces of the events CLI: errors with exit codes, option parsing,
// and the environment of docs/operations.md.
import { KafkaSecurity, parseKafkaSecurity } from '@app/contracts';

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
  security: KafkaSecurity;
}

/** The same variables (and defaults) as the apps: KAFKA_BROKERS, ARTIFACT_TOPIC, RUN_TOPIC, KAFKA_SSL*, KAFKA_SASL_*, plus INGEST_URL. */
export function readEnv(env: NodeJS.ProcessEnv): CliEnv {
  const brokers = (env.KAFKA_BROKERS || '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  for (const broker of brokers) {
    if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(broker)) throw new CliError(`KAFKA_BROKERS must be a comma-separated host:port list, got "${broker}"`, 2);
  }
  if (brokers.length === 0) throw new CliError('KAFKA_BROKERS is empty', 2);
  return {
    brokers,
    artifactTopic: env.ARTIFACT_TOPIC || 'prefect.artifacts',
    runTopic: env.RUN_TOPIC || 'prefect.runs',
    ingestUrl: (env.INGEST_URL || 'http://127.0.0.1:4201').replace(/\/+$/, ''),
    security: kafkaSecurity(env),
  };
}

function kafkaSecurity(env: NodeJS.ProcessEnv): KafkaSecurity {
  try {
    return parseKafkaSecurity(env);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
}

/** `artifacts` / `runs` name the configured topics; anything else is a topic name. Without `--topic`: both. */
export function resolveTopics(env: CliEnv, topic: string | undefined): string[] {
  if (topic === undefined) return [env.artifactTopic, env.runTopic];
  if (topic === 'artifacts') return [env.artifactTopic];
  if (topic === 'runs') return [env.runTopic];
  return [topic];
}
