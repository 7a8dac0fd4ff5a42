import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { demoEvents } from '../../scripts/demo-data';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectKafka, requireBrokers, TestKafka } from '../support/kafka';

// The web page (issue #8) in Debian's Chromium, against both real apps fed
// the demo data set through Kafka.
// Browser globals for the functions that run inside the page (the project compiles without the DOM lib).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, location: any;

const SHOTS = join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

jest.setTimeout(120_000);

describe('web page', () => {
  const suffix = randomBytes(4).toString('hex');
  const artifactTopic = `web-${suffix}.artifacts`;
  const runTopic = `web-${suffix}.runs`;
  let db: TestDatabase;
  let kafka: TestKafka;
  let ingest: AppProcess;
  let query: AppProcess;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    db = await createTestDatabase('web');
    kafka = await connectKafka();
    const ingestPort = await freePort();
    ingest = spawnApp('ingest', {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: requireBrokers().join(','),
      ARTIFACT_TOPIC: artifactTopic,
      RUN_TOPIC: runTopic,
      KAFKA_GROUP_ID: `web-${suffix}`,
      KAFKA_TOPIC_PARTITIONS: '2',
      INGEST_PORT: String(ingestPort),
    });
    query = spawnApp('query', { DATABASE_URL: db.url, QUERY_PORT: String(await freePort()), INGEST_URL: `http://127.0.0.1:${ingestPort}` });
    await Promise.all([waitForStatus(ingest, '/health'), waitForStatus(query, '/api/health')]);
    const events = demoEvents();
    for (const [topic, name] of [[runTopic, 'runs'], [artifactTopic, 'artifacts']] as const) {
      await kafka.send(
        topic,
        events
          .filter((e) => e.topic === name)
          .map((e) => ({
            key: e.key,
            value: JSON.stringify({ specversion: '1.0', id: randomUUID(), source: '/tests/web', type: e.type, time: e.time, subject: String(e.data.id), data: e.data }),
            headers: { 'content-type': 'application/cloudevents+json' },
          })),
      );
    }
    await waitForStatus(ingest, '/ready');
    profile = mkdtempSync(join(tmpdir(), 'web-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1366, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 600_000);

  afterAll(async () => {
    await context?.close();
    await Promise.allSettled([ingest?.stop(), query?.stop()]);
    await kafka?.close();
    await db?.drop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const textOf = (selector: string) => page.locator(selector).first().textContent();
  const waitText = (selector: string, text: string) =>
    page.waitForFunction(([s, t]) => (Array.from(document.querySelectorAll(s)) as { textContent: string | null }[]).some((e) => (e.textContent ?? '').includes(t)), [selector, text] as const, { timeout: 30_000 });
  const firstKeys = () => page.locator('table.list tbody tr td:first-child').allTextContents();
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  test('lists the latest artifacts; search, type filter, sort and paging are kept in the URL', async () => {
    await page.goto(`${query.url}/`);
    await waitText('#list-summary', '15 collections · page 1 of 2');
    expect(await page.locator('table.list tbody tr').count()).toBe(10);
    await shot('list');

    await page.fill('#key-search', 'progress');
    await page.press('#key-search', 'Enter');
    await waitText('#list-summary', '3 collections');
    expect(page.url()).toContain('key=progress');
    expect((await firstKeys()).sort()).toEqual(['backfill-progress', 'etl-progress', 'training-progress']);
    await shot('list-search');

    await page.fill('#key-search', '');
    await page.selectOption('#type-filter', 'table');
    await waitText('#list-summary', '4 collections');
    await page.selectOption('#sort-select', 'KEY_ASC');
    await page.waitForFunction(() => location.hash.includes('sort=KEY_ASC'));
    await waitText('table.list tbody tr:first-child td:first-child', 'customer-churn-table');
    expect(await firstKeys()).toEqual(['customer-churn-table', 'feature-importance', 'inventory-snapshot', 'model-accuracy']);
    await page.selectOption('#sort-select', 'KEY_DESC');
    await waitText('table.list tbody tr:first-child td:first-child', 'model-accuracy');
    expect(page.url()).toContain('type=table');
    await shot('list-type-sort');

    // A shared URL restores the view; then page forward.
    await page.goto(`${query.url}/#/?sort=KEY_ASC`);
    await waitText('#list-summary', 'page 1 of 2');
    await waitText('table.list tbody tr:first-child td:first-child', 'backfill-progress');
    await page.click('#next-page');
    await waitText('#list-summary', 'page 2 of 2');
    expect(page.url()).toContain('page=2');
    expect(await firstKeys()).toContain('weekly-kpis');
    await shot('list-page-2');
  });

  test('renders a markdown artifact safely and opens versions from its history', async () => {
    await page.goto(`${query.url}/#/?key=daily-summary`);
    await waitText('#list-summary', '1 collection');
    await page.click('table.list a:has-text("daily-summary")');
    await waitText('#artifact-data .markdown h1', 'daily summary');
    expect(await textOf('#artifact-data .markdown strong')).toBe('7');
    expect(await page.locator('#artifact-data .markdown table td').allTextContents()).toEqual(['rows', '1222', 'errors', '0']);
    await waitText('#history-body', 'latest');
    expect(await page.locator('#history-body li').count()).toBe(7);
    await shot('artifact-markdown');

    await page.locator('#history-body li a').last().click();
    await page.waitForFunction(() => document.querySelector('#artifact-data .markdown strong')?.textContent === '1');
    await page.locator('#history-body li.current').waitFor(); // the history is fetched after the content
    expect(await page.locator('#history-body li.current').count()).toBe(1);
    expect(await page.locator('#history-body li').last().getAttribute('class')).toBe('current');
    await shot('artifact-history');
  });

  test('renders table artifacts in both shapes', async () => {
    await page.goto(`${query.url}/#/?key=customer-churn-table`);
    await page.click('table.list a:has-text("customer-churn-table")');
    await waitText('#artifact-data table.data-table', 'alpha');
    expect(await page.locator('#artifact-data thead th').allTextContents()).toEqual(['name', 'score', 'rows']);
    expect(await page.locator('#artifact-data tbody tr:first-child td').allTextContents()).toEqual(['alpha', '0.87', '124']);
    await shot('artifact-table');

    // Version 4 of 5 stores the column-dict shape.
    await page.locator('#history-body li a').nth(1).click();
    await waitText('#artifact-data tbody tr:last-child', '143');
    expect(await page.locator('#artifact-data thead th').allTextContents()).toEqual(['name', 'score', 'rows']);
    expect(await page.locator('#artifact-data tbody tr:last-child td').allTextContents()).toEqual(['gamma', '0.8', '143']);
  });

  test('shows the pipeline status: lag 0 once ingest caught up', async () => {
    await page.goto(`${query.url}/`);
    await waitText('#pipeline-state', 'Caught up');
    await waitText('#pipeline-lag', '0');
    expect(await textOf('#pipeline-lag')).toBe('0');
    expect(await page.locator('#pipeline-body table.partitions tbody tr').count()).toBe(4);
    for (const lag of await page.locator('#pipeline-body td.lag').allTextContents()) expect(lag).toBe('0');
    expect(await textOf('#pipeline-dead')).toMatch(/^\d+$/);
    await shot('pipeline');

    const status = (await (await fetch(`${query.url}/ui/pipeline-status`)).json()) as { caught_up: boolean; applied_total: number };
    expect(status.caught_up).toBe(true);
    expect(status.applied_total).toBeGreaterThan(100);
  });

  test('is readable on a phone: one column, no sideways scrolling, the list keeps its key column', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${query.url}/#/?sort=UPDATED_DESC`);
      await waitText('#list-summary', '15 collections');
      await shot('phone-list');
      const layout = await page.evaluate(() => {
        const box = (selector: string) => {
          const r = document.querySelector(selector).getBoundingClientRect();
          return { left: Math.round(r.left), right: Math.round(r.right), top: Math.round(r.top), bottom: Math.round(r.bottom) };
        };
        const shown = (selector: string) => (Array.from(document.querySelectorAll(selector)) as { offsetParent: unknown }[]).filter((e) => e.offsetParent !== null).length;
        return {
          pageWidth: document.documentElement.scrollWidth,
          main: box('main'),
          aside: box('aside'),
          keyCells: shown('table.list tbody td:nth-child(1)'),
          fourthColumn: shown('table.list th:nth-child(4), table.list td:nth-child(4)'),
          fifthColumn: shown('table.list th:nth-child(5), table.list td:nth-child(5)'),
        };
      });
      // Nothing wider than the screen, so nothing to scroll sideways.
      expect(layout.pageWidth).toBeLessThanOrEqual(390);
      // The pipeline panel comes below the list, not beside it, and both fit the width.
      expect(layout.aside.top).toBeGreaterThanOrEqual(layout.main.bottom);
      for (const part of [layout.main, layout.aside]) expect([part.left >= 0, part.right <= 390]).toEqual([true, true]);
      // The narrow list drops its 4th and 5th columns and keeps one key per row.
      expect([layout.keyCells, layout.fourthColumn, layout.fifthColumn]).toEqual([10, 0, 0]);
    } finally {
      await page.setViewportSize({ width: 1366, height: 900 });
    }
  });
});
