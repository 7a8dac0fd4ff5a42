import { existsSync, readFileSync, rmSync } from 'node:fs';
import { down } from '../infra/local';
import { STATE_FILE } from './global-setup';

/** Stops only what globalSetup started. */
export default async function globalTeardown(): Promise<void> {
  if (!existsSync(STATE_FILE)) return;
  const { dir } = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as { dir: string };
  await down(dir);
  rmSync(STATE_FILE, { force: true });
  rmSync(dir, { recursive: true, force: true });
}
