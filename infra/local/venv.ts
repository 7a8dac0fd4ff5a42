// Python tools from PyPI (Prefect, Schemathesis) in virtualenvs outside the repository,
// cached between runs under ~/.cache/artifact-read-model.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from './proc';

export const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'artifact-read-model');

/**
 * A virtualenv at `venv` holding `requirements`, created on first use; returns its bin
 * directory. Safe to call from several processes at once (parallel test workers): one
 * installs under a lock directory, the others wait for it.
 */
export function ensureVenv(venv: string, requirements: string[]): string {
  const bin = join(venv, 'bin');
  // Written last: an interrupted install is never taken for a finished one.
  const done = join(venv, 'installed');
  if (existsSync(done)) return bin;
  mkdirSync(CACHE, { recursive: true });
  return withLock(`${venv}.lock`, () => {
    if (existsSync(done)) return bin;
    rmSync(venv, { recursive: true, force: true });
    const python = process.env.PYTHON ?? 'python3';
    execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(join(bin, 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...requirements], { stdio: 'inherit', timeout: 900_000 });
    writeFileSync(done, requirements.join('\n') + '\n');
    return bin;
  });
}

/** Runs `fn` holding `lock` (a directory: mkdir is atomic); a lock whose holder has died is taken over. */
function withLock<T>(lock: string, fn: () => T): T {
  const owner = join(lock, 'pid');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = existsSync(owner) ? Number(readFileSync(owner, 'utf8')) : NaN;
    if (Number.isInteger(pid) && !isAlive(pid)) rmSync(lock, { recursive: true, force: true });
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  }
  writeFileSync(owner, String(process.pid));
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
