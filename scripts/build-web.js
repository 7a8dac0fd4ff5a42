// Copies the web page's files (web/) to dist/web/, where the built query app serves them. Part of `npm run build`.
const { cpSync, mkdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const out = join(root, 'dist', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(root, 'web'), out, { recursive: true, filter: (src) => !/\.(md|map)$/.test(src) });
process.stdout.write(`web: copied web/ to ${out}\n`);
