// The built apps as real processes, for the e2e tests, the bench and the soak run.
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface AppProcess {
  name: string;
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit; SIGKILL after `graceMs`. Resolves with the exit code (or signal). */
  stop(graceMs?: number): Promise<number | string | null>;
  kill9(): Promise<void>;
  exited: Promise<number | string | null>;
}

/** Re-exported for the specs and the bench, which start apps on free ports. */
export { freePort } from './proc';

/** Starts a built app (`dist/apps/<name>/main.js`) as a real process with the given environment. */
export function spawnApp(name: 'ingest' | 'query', env: Record<string, string>): AppProcess {
  const port = env[name === 'ingest' ? 'INGEST_PORT' : 'QUERY_PORT'];
  if (!port) throw new Error(`spawnApp(${name}) needs its port in env`);
  return { name, url: `http://127.0.0.1:${port}`, ...spawnProcess([join(ROOT, 'dist', 'apps', name, 'main.js')], { LOG_LEVEL: 'warn', ...env }) };
}

/** How long `exited` waits, after the exit, for output still on its way through the pipes. */
const OUTPUT_DRAIN_MS = 5_000;

/** A Node process running `args`, its output kept (the last 20,000 characters). */
export function spawnProcess(args: string[], env: Record<string, string>): Omit<AppProcess, 'name' | 'url'> {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // 'exit' can come before the last lines the process wrote (a kill -9 right after a write):
  // `exited` resolves once both pipes are closed too, or OUTPUT_DRAIN_MS after the exit (a
  // process it started may hold them open).
  const closed = Promise.all([child.stdout, child.stderr].map((s) => new Promise((resolve) => (s && !s.destroyed ? s.once('close', resolve) : resolve(undefined)))));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => {
      const drained = setTimeout(resolve, OUTPUT_DRAIN_MS, code ?? signal);
      void closed.then(() => {
        clearTimeout(drained);
        resolve(code ?? signal);
      });
    }),
  );
  return {
    child,
    output: () => output,
    exited,
    // The grace is a safety net, not a check: the ingest app exits by itself (1 past its own
    // 9 s deadline), so an exit code of 0 is the outcome to assert, even on starved cores.
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

/** Polls `path` until `accept(status, body)`; fails at once if the process has exited. */
export async function waitForHttp(
  app: AppProcess,
  path: string,
  accept: (status: number, body: string) => boolean,
  timeoutMs = 60_000,
): Promise<{ status: number; body: string }> {
  return waitFor(
    `${app.name} ${path}`,
    async () => {
      if (app.child.exitCode !== null || app.child.signalCode !== null) {
        throw new Error(`${app.name} exited with ${app.child.exitCode ?? app.child.signalCode}: ${app.output().slice(-2000)}`);
      }
      const response = await fetch(app.url + path);
      const body = await response.text();
      return accept(response.status, body) ? { status: response.status, body } : undefined;
    },
    timeoutMs,
  );
}

/** Waits until the app answers `path` with `status` (its process must not have exited); gives the body. */
export async function waitForStatus(app: AppProcess, path: string, status = 200, timeoutMs = 60_000): Promise<string> {
  return (await waitForHttp(app, path, (s) => s === status, timeoutMs)).body;
}
