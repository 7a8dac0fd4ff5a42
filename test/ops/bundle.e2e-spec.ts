import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { createTestDatabase, TestDatabase } from '../support/database';

// The apps are built as one file each, their packages inside (webpack.config.js). The build must
// really hold the packages, and the built query app must still find Swagger UI's files, which
// it reads from the installed package (apps/query/src/http/docs.ts).

const DIST = join(__dirname, '..', '..', 'dist', 'apps');

describe('ops: the bundled apps', () => {
  let db: TestDatabase;
  let app: AppProcess;

  beforeAll(async () => {
    db = await createTestDatabase('bundle');
    app = spawnApp('query', { QUERY_PORT: String(await freePort()), DATABASE_URL: db.url });
    await waitForStatus(app, '/api/health', 200, 120_000);
  });

  afterAll(async () => {
    if (app) await app.stop();
    await db?.drop();
  });

  it('hold their packages instead of requiring them from node_modules', () => {
    for (const name of ['ingest', 'query']) {
      const bundle = readFileSync(join(DIST, name, 'main.js'), 'utf8');
      for (const bundled of ['typeorm', 'kafkajs', '@nestjs/core', 'pg', 'zod']) {
        if (name === 'query' && bundled === 'kafkajs') continue;
        expect({ name, required: bundle.includes(`require("${bundled}")`) }).toEqual({ name, required: false });
      }
    }
  });

  it('serve Swagger UI and its files from the built query app', async () => {
    const page = await fetch(`${app.url}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/docs/static/swagger-ui-bundle.js');
    const script = await fetch(`${app.url}/docs/static/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await fetch(`${app.url}/docs-json`)).status).toBe(200);
  });
});
