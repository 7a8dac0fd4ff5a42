import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { demoEvents } from '../../scripts/demo-data';
import { AppProcess, freePort, spawnApp, waitForStatus } from '../../infra/local/apps';
import { createTestDatabase, TestDatabase } from '../support/database';
import { connectKafka, requireBrokers, TestKafka } from '../support/kafka';

// The web page (issues #8 and #16) in Debian's Chromium, against both real
// apps fed the demo data set through Kafka, plus a few artifacts with long
// words, URLs and wide tables, and three messages that must be dead-lettered.
// Browser globals for the functions that run inside the page (the project compiles without the DOM lib).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, location: any, window: any, navigator: any, axe: any;

const SHOTS = join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TOKEN = `web-token-${randomBytes(4).toString('hex')}`;
const LONG_WORD = 'supercalifragilistic'.repeat(12);
const LONG_URL = `https://example.com/${'very-long-path-segment/'.repeat(20)}?q=${'x'.repeat(120)}`;

jest.setTimeout(180_000);

interface Row {
  artifact: { key: string; latest_id: string; updated: string; flow_run_id: string | null };
}

describe('web page', () => {
  const suffix = randomBytes(4).toString('hex');
  const artifactTopic = `web-${suffix}.artifacts`;
  const runTopic = `web-${suffix}.runs`;
  const longKey = `long-${LONG_WORD}`;
  const wideId = randomUUID();
  const longId = randomUUID();
  let db: TestDatabase;
  let kafka: TestKafka;
  let ingest: AppProcess;
  let query: AppProcess;
  let locked: AppProcess;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let firstStatus: { reachable: boolean; ingest: { window: { seconds: number; dead_lettered: number; applied: number }; durable: { dead_lettered: string } } };

  const cloudEvent = (type: string, data: Record<string, unknown>) =>
    JSON.stringify({ specversion: '1.0', id: randomUUID(), source: '/tests/web', type, time: data.created ?? data.updated, subject: String(data.id), data });

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
    const ingestUrl = `http://127.0.0.1:${ingestPort}`;
    // A heartbeat far beyond the tests' waits: what the live panels show comes from the commits announced.
    query = spawnApp('query', { DATABASE_URL: db.url, QUERY_PORT: String(await freePort()), INGEST_URL: ingestUrl, QUERY_SUBSCRIBE_HEARTBEAT_SECONDS: '600' });
    // The same read model behind a token, for the page's 401 state.
    locked = spawnApp('query', { DATABASE_URL: db.url, QUERY_PORT: String(await freePort()), INGEST_URL: ingestUrl, API_AUTH_TOKEN: TOKEN });
    await Promise.all([waitForStatus(ingest, '/health'), waitForStatus(query, '/api/health'), waitForStatus(locked, '/api/health')]);
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
    // Content that tends to break layouts: a very long key and word, a long URL, a wide table, a long code line.
    const at = '2026-11-01T12:00:00.000Z';
    const wideTable = [Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`column_number_${i}`, `value-${i}-${'w'.repeat(20)}`]))];
    const extra = [
      { id: longId, key: longKey, type: 'markdown', description: `A description with ${LONG_WORD} and ${LONG_URL}`, data: `# ${LONG_WORD}\n\nSee ${LONG_URL}\n\n\`\`\`\n${'code '.repeat(200)}\n\`\`\`\n`, metadata_: { [LONG_WORD]: LONG_URL } },
      { id: wideId, key: 'wide-table', type: 'table', description: '**Forty** columns', data: wideTable, metadata_: null },
    ];
    await kafka.send(
      artifactTopic,
      extra.map((a) => ({ key: a.key, value: cloudEvent('prefect.artifact.created', { ...a, flow_run_id: null, task_run_id: null, created: at, updated: at }), headers: { 'content-type': 'application/cloudevents+json' } })),
    );
    // Three messages that cannot be decoded: dead letters.
    await kafka.send(artifactTopic, ['not json', '{"specversion":"1.0"}', '{}'].map((value, i) => ({ key: `bad-${i}`, value })));
    await waitForStatus(ingest, '/ready');
    // Read before any page is open: the counts are the ingest app's own, not samples taken while a page watches.
    firstStatus = (await (await fetch(`${query.url}/ui/pipeline-status`)).json()) as typeof firstStatus;
    profile = mkdtempSync(join(tmpdir(), 'web-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 600_000);

  afterAll(async () => {
    await context?.close();
    await Promise.allSettled([ingest?.stop(), query?.stop(), locked?.stop()]);
    await kafka?.close();
    await db?.drop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const textOf = async (selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();
  const waitText = (selector: string, text: string) =>
    page.waitForFunction(([s, t]) => (Array.from(document.querySelectorAll(s)) as { textContent: string | null }[]).some((e) => (e.textContent ?? '').includes(t)), [selector, text] as const, { timeout: 30_000 });
  const firstKeys = () => page.locator('table.list tbody tr td:first-child').allTextContents();
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const summary = () => textOf('#list-summary');
  /** Waits until the list shows a result for the current URL (rows, empty or past-the-end notice). */
  const listed = () => page.waitForFunction(() => document.querySelector('#list-results')?.getAttribute('data-for') === location.hash, undefined, { timeout: 30_000 });
  const apiCount = async (body: unknown) => Number(await (await fetch(`${query.url}/api/artifacts/latest/count`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).text());
  const countShown = async () => Number(/^(\d+) key/.exec(await summary())?.[1] ?? (/No artifacts/.test(await summary()) ? 0 : NaN));

  /** axe-core on the page as it is: no serious or critical violation. */
  async function expectAccessible(view: string): Promise<void> {
    if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE_SOURCE);
    const violations = (await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }).then((r: { violations: unknown[] }) => r.violations))) as {
      id: string;
      impact: string;
      nodes: { target: string[] }[];
    }[];
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
    expect([view, bad]).toEqual([view, []]);
  }
  /** Neither the page nor the body is wider than the window. */
  async function expectNoPageOverflow(view: string): Promise<void> {
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, body: document.body.scrollWidth, window: document.documentElement.clientWidth }));
    expect([view, widths.page <= widths.window && widths.body <= widths.window, widths]).toEqual([view, true, widths]);
  }

  test('the pipeline panel shows the ingest app\'s own counts over a stated window', async () => {
    expect(firstStatus.reachable).toBe(true);
    expect(firstStatus.ingest.window).toMatchObject({ seconds: 900, dead_lettered: 3 });
    expect(firstStatus.ingest.window.applied).toBeGreaterThan(100);
    expect(Number(firstStatus.ingest.durable.dead_lettered)).toBe(3);

    await page.goto(`${query.url}/`);
    await waitText('#pipeline-state', 'Caught up');
    expect(await textOf('#pipeline-dead')).toBe('3');
    expect(await textOf('#pipeline-dead-durable')).toBe('3');
    expect(await textOf('#pipeline-lag')).toBe('0');
    // The ingest process is younger than the 15-minute window, and the panel says so.
    expect(await textOf('#pipeline-window')).toMatch(/^Since the ingest app started \(.+\)$/);
    expect(await page.locator('#pipeline-body table.partitions tbody tr').count()).toBe(4);
    for (const lag of await page.locator('#pipeline-body td.lag').allTextContents()) expect(lag).toBe('0');
    await page.locator('#pipeline').screenshot({ path: join(SHOTS, 'pipeline.png') });
  });

  test('lists the latest artifacts with run, task run, flow and deployment names as links', async () => {
    await page.goto(`${query.url}/`);
    await listed();
    const total = await apiCount({});
    expect(await summary()).toBe(`${total} keys · showing 1–10 · page 1 of ${Math.ceil(total / 10)}`);
    expect(await page.locator('table.list tbody tr').count()).toBe(10);
    expect(await page.title()).toBe('Latest artifacts · Artifacts');
    // Relative times, the absolute one on hover.
    const time = page.locator('table.list tbody tr:first-child time');
    expect(await time.textContent()).toMatch(/ago$/);
    expect(await time.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await shot('list');

    // daily-summary's latest version was made in flow run 24 (scripts/demo-data.ts): brave-otter-24, task
    // publish-report-24, flow reporting, deployment reporting-weekly, state Running.
    await page.goto(`${query.url}/#/?key=daily-summary`);
    await waitText('#list-summary', '1 key');
    const row = page.locator('table.list tbody tr').first();
    expect(await row.locator('td').nth(3).textContent()).toBe('brave-otter-24 Running');
    expect(await row.locator('td').nth(4).textContent()).toBe('publish-report-24 Running');
    expect(await row.locator('td').nth(5).textContent()).toBe('reporting · reporting-weekly');
    expect(await row.locator('td:nth-child(4) a').getAttribute('href')).toMatch(/^#\/run\/[0-9a-f-]{36}$/);
    expect(await row.locator('td:nth-child(6) a').first().getAttribute('href')).toBe('#/?flow=reporting');
    expect(await row.locator('td:nth-child(6) a').last().getAttribute('href')).toBe('#/?deployment=reporting-weekly');

    // The flow link filters the list by flow name.
    await row.locator('td:nth-child(6) a').first().click();
    await page.waitForFunction(() => location.hash === '#/?flow=reporting');
    await listed();
    expect(await countShown()).toBe(await apiCount({ flows: { name: { like_: 'reporting' } } }));
    expect(await page.inputValue('#flow-filter')).toBe('reporting');
  });

  test('each filter is in the URL and matches the API\'s own filter; they combine with and_', async () => {
    const cases: { fill: () => Promise<void>; param: string; body: unknown }[] = [
      { fill: () => page.fill('#key-search', 'progress'), param: 'key=progress', body: { artifacts: { key: { like_: 'progress' } } } },
      { fill: () => page.selectOption('#type-filter', 'table').then(() => undefined), param: 'type=table', body: { artifacts: { type: { any_: ['table'] } } } },
      { fill: () => page.fill('#flow-filter', 'ml-training'), param: 'flow=ml-training', body: { flows: { name: { like_: 'ml-training' } } } },
      { fill: () => page.fill('#deployment-filter', 'staging'), param: 'deployment=staging', body: { deployments: { name: { like_: 'staging' } } } },
      { fill: () => page.fill('#tags-filter', 'backfill'), param: 'tags=backfill', body: { flow_runs: { tags: { all_: ['backfill'] } } } },
      { fill: () => page.selectOption('#state-filter', 'FAILED').then(() => undefined), param: 'state=FAILED', body: { flow_runs: { state: { type: { any_: ['FAILED'] } } } } },
    ];
    for (const c of cases) {
      await page.goto(`${query.url}/#/`);
      await listed();
      await c.fill();
      await page.click('#list-form button[type="submit"]');
      await page.waitForFunction((p) => location.hash.includes(p), c.param);
      await listed();
      const expected = await apiCount(c.body);
      expect([c.param, await countShown()]).toEqual([c.param, expected]);
      expect(expected).toBeGreaterThan(0);
    }
    await shot('list-search');

    // Combined: type and flow and state, all of them at once (and_).
    await page.goto(`${query.url}/#/?type=table&flow=ml-training&state=CRASHED`);
    await listed();
    const combined = await apiCount({ artifacts: { operator: 'and_', type: { any_: ['table'] } }, flows: { name: { like_: 'ml-training' } }, flow_runs: { state: { type: { any_: ['CRASHED'] } } } });
    expect(await countShown()).toBe(combined);
    expect(combined).toBeGreaterThan(0);
    expect(combined).toBeLessThan(await apiCount({ artifacts: { type: { any_: ['table'] } } }));
    expect(await page.inputValue('#type-filter')).toBe('table');
    expect(await page.inputValue('#state-filter')).toBe('CRASHED');
    await shot('list-filters');

    // Updated since: an instant in the URL; the preset "Last hour" leaves nothing of the (older) demo data.
    const rows = (await (await fetch(`${query.url}/ui-api/artifacts/latest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { rows: Row[] };
    const since = '2026-11-01T09:30:00.000Z';
    await page.goto(`${query.url}/#/?since=${since}`);
    await listed();
    expect(await countShown()).toBe(rows.rows.filter((r) => r.artifact.updated >= '2026-11-01T09:30:00').length);
    expect(await countShown()).toBeGreaterThan(0);
    await page.selectOption('#since-filter', '1h');
    await page.waitForFunction(() => location.hash.includes('since=1h'));
    await waitText('#list-empty', 'No artifacts match these filters.');
    expect(await page.locator('#list-empty a[href="#/"]').count()).toBe(1);
    await expectAccessible('empty list');
  });

  test('page size, sort labels in words, paging, and a page past the end', async () => {
    await page.goto(`${query.url}/`);
    await listed();
    expect(await page.locator('#sort-select option').allTextContents()).toEqual(['Newest first', 'Recently updated', 'Key, A to Z', 'Key, Z to A', 'By id (stable order)']);
    await page.selectOption('#size-select', '25');
    await page.waitForFunction(() => location.hash.includes('size=25'));
    await listed();
    const total = await apiCount({});
    expect(await page.locator('table.list tbody tr').count()).toBe(Math.min(25, total));
    await page.selectOption('#sort-select', 'KEY_ASC');
    await page.waitForFunction(() => location.hash.includes('sort=KEY_ASC'));
    await waitText('table.list tbody tr:first-child td:first-child', 'backfill-progress');
    const keys = await firstKeys();
    expect(keys).toEqual([...keys].sort());
    await shot('list-type-sort');

    await page.goto(`${query.url}/#/?sort=KEY_ASC`);
    await waitText('#list-summary', 'page 1 of 2');
    await page.click('#next-page');
    await waitText('#list-summary', 'page 2 of 2');
    expect(page.url()).toContain('page=2');
    expect(await firstKeys()).toContain('weekly-kpis');
    expect(await page.title()).toBe('Latest artifacts, page 2 · Artifacts');
    await shot('list-page-2');

    await page.goto(`${query.url}/#/?page=999`);
    await waitText('#list-past-end', 'Page 999 does not exist');
    expect(await summary()).not.toContain('page 999 of');
    await page.click('#last-page');
    await waitText('#list-summary', 'page 2 of 2');
    await expectAccessible('list page 2');
  });

  test('one artifact: markdown description and content, raw JSON, copy buttons, the timeline of its key', async () => {
    await page.goto(`${query.url}/#/?key=daily-summary`);
    await waitText('#list-summary', '1 key');
    await page.click('table.list a:has-text("daily-summary")');
    await waitText('#artifact-data .markdown h1', 'daily summary');
    expect(await page.title()).toBe('daily-summary · Artifacts');
    expect(await textOf('#artifact-data .markdown strong')).toBe('7');
    expect(await page.locator('#artifact-data .markdown table td').allTextContents()).toEqual(['rows', '1222', 'errors', '0']);
    expect(await textOf('.description')).toBe('daily summary, version 7');
    // Names and links of the run that made it.
    expect(await textOf('.meta a[href^="#/run/"]')).toBe('brave-otter-24');
    // Raw JSON of data and metadata_.
    await page.click('#raw-metadata summary');
    expect(JSON.parse(await textOf('#raw-metadata pre'))).toEqual({ owner: 'data-eng', version: '7' });
    await page.click('#raw-data summary');
    expect(JSON.parse(await textOf('#raw-data pre'))).toContain('# daily summary');
    // Copy buttons put the id and the key on the clipboard.
    const id = /#\/artifact\/(.+)$/.exec(page.url())?.[1];
    await page.click('button.copy[data-what="id"]');
    await waitText('button.copy[data-what="id"]', 'Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(id);
    await page.click('button.copy[data-what="key"]');
    await waitText('button.copy[data-what="key"]', 'Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('daily-summary');
    // The timeline: 7 versions, newest first, this one the latest and shown.
    expect(await page.locator('#history-body li').count()).toBe(7);
    expect(await textOf('#history-title')).toBe('Versions of this key (7)');
    expect(await page.locator('#history-body li.current.latest').count()).toBe(1);
    await expectAccessible('artifact (markdown)');
    await shot('artifact-markdown');

    await page.locator('#history-body li a').last().click();
    await page.waitForFunction(() => document.querySelector('#artifact-data .markdown strong')?.textContent === '1');
    expect(await page.locator('#history-body li').last().getAttribute('class')).toBe('current');
    expect(await textOf('#view-title')).toContain('older version');
    expect(await page.title()).toBe('daily-summary (older version) · Artifacts');
    await shot('artifact-history');
  });

  test('renders table artifacts in both shapes', async () => {
    await page.goto(`${query.url}/#/?key=customer-churn-table`);
    await page.click('table.list a:has-text("customer-churn-table")');
    await waitText('#artifact-data table.data-table', 'alpha');
    expect(await page.locator('#artifact-data thead th').allTextContents()).toEqual(['name', 'score', 'rows']);
    expect(await page.locator('#artifact-data tbody tr:first-child td').allTextContents()).toEqual(['alpha', '0.87', '124']);
    await expectAccessible('artifact (table)');
    await shot('artifact-table');

    // Version 4 of 5 stores the column-dict shape.
    await page.locator('#history-body li a').nth(1).click();
    await waitText('#artifact-data tbody tr:last-child', '143');
    expect(await page.locator('#artifact-data thead th').allTextContents()).toEqual(['name', 'score', 'rows']);
    expect(await page.locator('#artifact-data tbody tr:last-child td').allTextContents()).toEqual(['gamma', '0.8', '143']);
  });

  test('a run view lists all of its artifacts, keyless ones included, with the run\'s state', async () => {
    const keyless = (await (await fetch(`${query.url}/api/artifacts/filter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ artifacts: { key: { exists_: false } }, sort: 'CREATED_DESC' }) })).json()) as { id: string; flow_run_id: string }[];
    const target = keyless.find((a) => a.flow_run_id !== null)!;
    await page.goto(`${query.url}/#/run/${target.flow_run_id}`);
    await waitText('#view-title', 'Flow run');
    const title = await textOf('#view-title');
    expect(title).toMatch(/^Flow run [a-z]+-[a-z]+-\d+ (Completed|Failed|Running|Scheduled|Cancelled|Crashed)$/);
    expect(await page.title()).toBe(`${title.replace(/ \S+$/, '')} · Artifacts`);
    const expected = Number(await (await fetch(`${query.url}/api/artifacts/count`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ artifacts: { flow_run_id: { any_: [target.flow_run_id] } } }) })).text());
    expect(await page.locator('table.run-artifacts tbody tr').count()).toBe(expected);
    expect(await textOf('#run-artifacts-title')).toBe(`Artifacts (${expected})`);
    const keylessLink = page.locator(`table.run-artifacts a[href="#/artifact/${target.id}"]`);
    expect(await keylessLink.textContent()).toBe('Keyless result');
    await expectAccessible('run view');
    await shot('run-view');

    await keylessLink.click();
    await waitText('#view-title', 'Keyless artifact');
    expect(await page.title()).toBe('Keyless artifact · Artifacts');
    expect(await textOf('#history-body')).toBe('A keyless artifact has no other versions.');
    expect(await page.locator('.meta a[href^="#/run/"]').first().getAttribute('href')).toBe(`#/run/${target.flow_run_id}`);
    await expectAccessible('keyless artifact');

    // A task run is a run view too, with a link up to its flow run.
    await page.goto(`${query.url}/#/?key=daily-summary`);
    await waitText('#list-summary', '1 key');
    await page.click('table.list tbody tr td:nth-child(5) a');
    await waitText('#view-title', 'Task run publish-report-24');
    expect(await textOf('.meta a[href^="#/run/"]')).toBe('brave-otter-24');
    expect(await page.locator('table.run-artifacts a:has-text("daily-summary")').count()).toBe(1);
  });

  test('a loading state is shown while a view\'s request is on its way', async () => {
    await page.goto(`${query.url}/`);
    await listed();
    // The page renders the loading state in its own hashchange handler, before the answer can arrive: read it right after.
    const shownWhileLoading = (hash: string, selector: string) =>
      page.evaluate(
        ([h, s]) =>
          new Promise<string>((resolve) => {
            window.addEventListener('hashchange', () => resolve(document.querySelector(s)?.textContent ?? ''), { once: true });
            location.hash = h;
          }),
        [hash, selector] as const,
      );
    expect(await shownWhileLoading('#/?key=etl', '#list-results')).toBe('Loading artifacts…');
    await listed();
    expect(await shownWhileLoading(`#/run/${randomUUID()}`, 'main .loading')).toBe('Loading the run…');
    await waitText('#not-found h2', 'Run not found');
  });

  test('not-found and error states are written for people, with a way back', async () => {
    await page.goto(`${query.url}/#/?type=table`);
    await listed();
    await page.goto(`${query.url}/#/artifact/00000000-0000-4000-8000-000000000000`);
    await waitText('#not-found h2', 'Artifact not found');
    expect(await textOf('#not-found')).toContain('No artifact has the id 00000000-0000-4000-8000-000000000000');
    expect(await page.title()).toBe('Artifact not found · Artifacts');
    expect(await page.locator('#not-found a.back').getAttribute('href')).toBe('#/?type=table');
    await expectAccessible('artifact not found');
    await shot('not-found');
    await page.click('#not-found a.back');
    await listed();
    expect(await page.inputValue('#type-filter')).toBe('table');

    await page.goto(`${query.url}/#/artifact/not-an-id`);
    await waitText('#not-found h2', 'Artifact not found');
    await page.goto(`${query.url}/#/run/${randomUUID()}`);
    await waitText('#not-found h2', 'Run not found');
    expect(await page.title()).toBe('Run not found · Artifacts');
    await page.goto(`${query.url}/#/no/such/page`);
    await waitText('#not-found h2', 'Page not found');
    expect(await page.title()).toBe('Page not found · Artifacts');

    // A filter the server refuses (a state type that does not exist): its reason, and a way back.
    await page.goto(`${query.url}/#/?state=SLEEPING`);
    await waitText('.notice-error', 'did not accept');
    expect(await textOf('.notice-error')).toContain('flow_runs.state.type.any_.0');
    expect(await page.locator('.notice-error a.back').count()).toBe(1);
    await expectAccessible('error (422)');

    // A server that needs a token: say so, then work once it is given.
    await page.goto(`${locked.url}/`);
    await waitText('.notice-error', 'needs an API token');
    await waitText('#pipeline-body', 'needs the API token');
    await expectAccessible('error (401)');
    await shot('error-token');
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type="submit"]');
    await listed();
    expect(await countShown()).toBe(await apiCount({}));
    await page.click('#token-clear');


    // The server gone while the page is open: say that it cannot be reached, offer to try again and a way back.
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type="submit"]');
    await listed();
    await locked.stop();
    await page.selectOption('#type-filter', 'markdown');
    await listed();
    expect(await textOf('.notice-error')).toContain('could not reach the server');
    expect(await page.locator('.notice-error #retry').count()).toBe(1);
    expect(await page.locator('.notice-error a.back').count()).toBe(1);
    await expectAccessible('error (no connection)');
  });

  test('keyboard: skip link, filters keep focus, a row opens with Enter and focus lands on the view\'s title', async () => {
    await page.goto(`${query.url}/`);
    await listed();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement.id)).toBe('skip-link');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement.id)).toBe('view-title');
    expect(page.url()).not.toContain('#main');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement.id)).toBe('key-search');
    await page.keyboard.type('progress');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.includes('key=progress'));
    await waitText('#list-summary', '3 keys');
    expect(await page.evaluate(() => document.activeElement.id)).toBe('key-search');
    await page.focus('table.list tbody tr:first-child td:first-child a');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.startsWith('#/artifact/') && document.activeElement?.id === 'view-title' && document.activeElement.textContent.includes('progress'));
  });

  test('long words, URLs, descriptions and wide tables stay inside their boxes at 1400, 800 and 390 px', async () => {
    const views: [string, string, string][] = [
      ['list', '/#/?size=25', '#list-summary'],
      ['long artifact', `/#/artifact/${longId}`, '#artifact-data'],
      ['wide table', `/#/artifact/${wideId}`, '#artifact-data table'],
      ['run view', '', ''],
      ['not found', '/#/artifact/00000000-0000-4000-8000-000000000000', '#not-found'],
    ];
    const runHref = async () => {
      await page.goto(`${query.url}/#/?key=daily-summary`);
      await waitText('#list-summary', '1 key');
      return (await page.locator('table.list tbody tr td:nth-child(4) a').getAttribute('href')) ?? '';
    };
    const run = await runHref();
    views[3] = ['run view', `/${run}`, 'table.run-artifacts'];
    for (const width of [1400, 800, 390]) {
      await page.setViewportSize({ width, height: 900 });
      for (const [view, path, ready] of views) {
        await page.goto(`${query.url}${path}`);
        await page.locator(ready).first().waitFor({ timeout: 30_000 });
        await waitText('#pipeline-body', 'Per partition');
        await expectNoPageOverflow(`${view} at ${width} px`);
        if (width === 390) await expectAccessible(`${view} at 390 px`);
      }
      if (width === 390) {
        await page.goto(`${query.url}/#/?sort=UPDATED_DESC`);
        await listed();
        await shot('phone-list');
        await page.goto(`${query.url}/#/artifact/${longId}`);
        await page.locator('#artifact-data').waitFor();
        await shot('phone-long-artifact');
      }
    }
    // The wide table scrolls inside its own box.
    await page.goto(`${query.url}/#/artifact/${wideId}`);
    await page.locator('#artifact-data table').waitFor();
    const box = await page.evaluate(() => {
      const wrap = document.querySelector('#artifact-data .table-wrap');
      return { scroll: wrap.scrollWidth, client: wrap.clientWidth };
    });
    expect(box.scroll).toBeGreaterThan(box.client);
    await page.setViewportSize({ width: 1400, height: 900 });
  });
  test('the list is live: a new artifact appears without a reload, with a visible live or paused state', async () => {
    const key = `live-${suffix}`;
    const created = (id: string, k: string, minute: number) => {
      const at = new Date(Date.parse('2026-11-05T12:00:00Z') + minute * 60_000).toISOString();
      return { key: k, value: cloudEvent('prefect.artifact.created', { id, key: k, type: 'link', description: 'live', data: 'https://example.com', created: at, updated: at }), headers: { 'content-type': 'application/cloudevents+json' } };
    };
    await page.goto(`${query.url}/#/?key=${key}`);
    await listed();
    await waitText('#live-state', 'Live');
    expect(await page.getAttribute('#live-state', 'data-state')).toBe('live');
    expect(await countShown()).toBe(0);
    await page.evaluate(() => { window.sameDocument = true; });

    await kafka.send(artifactTopic, [created(randomUUID(), `${key}-a`, 1)]);
    await page.waitForFunction((k) => Array.from(document.querySelectorAll('table.list tbody tr td:first-child')).some((td) => (td as { textContent: string }).textContent.trim() === k), `${key}-a`, { timeout: 30_000 });
    expect(await countShown()).toBe(1);
    // Same document: the page was not reloaded.
    expect(await page.evaluate(() => window.sameDocument)).toBe(true);

    // Paused: the indicator says so and the list stays as it is; resuming brings what changed meanwhile.
    await page.click('#live-toggle');
    expect(await textOf('#live-state')).toBe('Paused');
    expect(await page.getAttribute('#live-toggle', 'aria-pressed')).toBe('true');
    await kafka.send(artifactTopic, [created(randomUUID(), `${key}-b`, 2)]);
    await waitForApiCount({ artifacts: { key: { like_: key } } }, 2);
    expect(await countShown()).toBe(1);
    await expectAccessible('list, paused');
    await page.click('#live-toggle');
    await waitText('#live-state', 'Live');
    await waitText('#list-summary', '2 keys');
    expect(await firstKeys()).toEqual(expect.arrayContaining([`${key}-a`, `${key}-b`]));
  });

  const artifactEvent = (type: string, data: Record<string, unknown>) => ({ key: String(data.key), value: cloudEvent(type, data), headers: { 'content-type': 'application/cloudevents+json' } });
  const version = (id: string, key: string, minute: number, extra: Record<string, unknown> = {}) => {
    const at = new Date(Date.parse('2026-11-06T12:00:00Z') + minute * 60_000).toISOString();
    return artifactEvent('prefect.artifact.created', { id, key, type: 'markdown', description: `version at minute ${minute}`, data: `# ${key}`, created: at, updated: at, ...extra });
  };
  const versionCount = (key: string) => countOf('/api/artifacts/count', { artifacts: { key: { any_: [key] } } });
  const countOf = async (path: string, body: unknown) => Number(await (await fetch(`${query.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).text());
  const markDocument = () => page.evaluate(() => { window.sameDocument = true; });
  const sameDocument = () => page.evaluate(() => window.sameDocument === true);

  test('the artifact view is live: an edit and a new version of its key show without a reload; paused, it stays as it is', async () => {
    const key = `live-detail-${suffix}`;
    const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()];
    await kafka.send(artifactTopic, [version(first, key, 1)]);
    await until('the first version is applied', async () => (await versionCount(key)) === 1);
    await page.goto(`${query.url}/#/artifact/${first}`);
    await waitText('#history-title', 'Versions of this key (1)');
    await waitText('#live-state', 'Live');
    expect(await page.getAttribute('#live-state', 'data-state')).toBe('live');
    await markDocument();

    // An edit of the version shown, then a new version: the timeline grows and the one shown is no longer the latest.
    await kafka.send(artifactTopic, [artifactEvent('prefect.artifact.updated', { id: first, key, description: 'edited while watched', updated: '2026-11-06T12:01:30.000Z' })]);
    await waitText('.description', 'edited while watched');
    await kafka.send(artifactTopic, [version(second, key, 2)]);
    await waitText('#history-title', 'Versions of this key (2)');
    expect(await textOf('#view-title')).toContain('older version');
    expect(await page.locator('#history-body li.latest a').getAttribute('href')).toBe(`#/artifact/${second}`);
    expect(await sameDocument()).toBe(true);

    // Paused: the view stays as it is; resuming brings what changed meanwhile.
    await page.click('#live-toggle');
    expect(await textOf('#live-state')).toBe('Paused');
    await kafka.send(artifactTopic, [version(third, key, 3)]);
    await until('the third version is applied', async () => (await versionCount(key)) === 3);
    expect(await textOf('#history-title')).toBe('Versions of this key (2)');
    await expectAccessible('artifact, paused');
    await page.click('#live-toggle');
    await waitText('#live-state', 'Live');
    await waitText('#history-title', 'Versions of this key (3)');
    expect(await sameDocument()).toBe(true);
  });

  test('the run view is live: an artifact made in the run shows without a reload; paused, it stays as it is', async () => {
    const run = randomUUID();
    const key = `live-run-${suffix}`;
    await kafka.send(runTopic, [
      { key: run, value: cloudEvent('prefect.flow-run.upserted', { id: run, name: `live-run-${suffix}`, state_type: 'RUNNING', state_name: 'Running', updated: '2026-11-06T12:00:00.000Z' }), headers: { 'content-type': 'application/cloudevents+json' } },
    ]);
    await kafka.send(artifactTopic, [version(randomUUID(), `${key}-a`, 1, { flow_run_id: run })]);
    const inRun = () => countOf('/api/artifacts/count', { artifacts: { flow_run_id: { any_: [run] } } });
    await until('the run and its first artifact are applied', async () => (await inRun()) === 1 && ((await (await fetch(`${query.url}/ui-api/runs/${run}`)).json()) as { run: unknown }).run !== null);
    await page.goto(`${query.url}/#/run/${run}`);
    await waitText('#run-artifacts-title', 'Artifacts (1)');
    await waitText('#live-state', 'Live');
    await markDocument();

    await kafka.send(artifactTopic, [version(randomUUID(), `${key}-b`, 2, { flow_run_id: run })]);
    await waitText('#run-artifacts-title', 'Artifacts (2)');
    expect(await page.locator(`table.run-artifacts a:has-text("${key}-b")`).count()).toBe(1);
    expect(await sameDocument()).toBe(true);

    await page.click('#live-toggle');
    expect(await textOf('#live-state')).toBe('Paused');
    await kafka.send(artifactTopic, [version(randomUUID(), `${key}-c`, 3, { flow_run_id: run })]);
    await until('the third artifact is applied', async () => (await inRun()) === 3);
    expect(await textOf('#run-artifacts-title')).toBe('Artifacts (2)');
    await page.click('#live-toggle');
    await waitText('#run-artifacts-title', 'Artifacts (3)');
    expect(await sameDocument()).toBe(true);
  });

  test('the pipeline panel is live: an applied event shows in its counts without a reload; paused, it stays as it is', async () => {
    const applied = async () => Number((await textOf('#pipeline-applied-durable')).replace(/,/g, ''));
    const appliedNow = async () => Number(((await (await fetch(`${query.url}/ui/pipeline-status`)).json()) as { ingest: { durable: { applied_messages: string } } }).ingest.durable.applied_messages);
    // The earlier tests' last counts may still be landing, and the query app serves a status up to
    // a second old: let the count hold still for over a second before the panel's stream starts.
    let settled = await appliedNow();
    await until('the ingest counts settle', async () => {
      await page.waitForTimeout(1_100);
      const now = await appliedNow();
      const same = now === settled;
      settled = now;
      return same;
    });
    // A new document: the panel's stream starts now, not with the earlier tests.
    await page.goto('about:blank');
    await page.goto(`${query.url}/#/`);
    await waitText('#pipeline-live-state', 'Live');
    await waitText('#pipeline-state', 'Caught up');
    await markDocument();
    const shows = (n: number) => page.waitForFunction((v) => Number((document.querySelector('#pipeline-applied-durable')?.textContent ?? '').replace(/,/g, '')) === v, n, { timeout: 30_000 });
    const before = await appliedNow();
    await shows(before);

    await kafka.send(artifactTopic, [version(randomUUID(), `live-pipeline-${suffix}-a`, 1)]);
    await shows(before + 1);
    expect(await sameDocument()).toBe(true);

    await page.click('#pipeline-live-toggle');
    expect(await textOf('#pipeline-live-state')).toBe('Paused');
    expect(await page.getAttribute('#pipeline-live-toggle', 'aria-pressed')).toBe('true');
    await kafka.send(artifactTopic, [version(randomUUID(), `live-pipeline-${suffix}-b`, 2)]);
    await until('the event is applied', async () => (await appliedNow()) === before + 2);
    expect(await applied()).toBe(before + 1);
    await expectAccessible('pipeline, paused');
    await page.click('#pipeline-live-toggle');
    await waitText('#pipeline-live-state', 'Live');
    await shows(before + 2);
    expect(await sameDocument()).toBe(true);
  });

  async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
    for (const deadline = Date.now() + 30_000; !(await probe()); ) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await page.waitForTimeout(100);
    }
  }

  async function waitForApiCount(body: unknown, count: number): Promise<void> {
    for (const deadline = Date.now() + 30_000; (await apiCount(body)) !== count; ) {
      if (Date.now() > deadline) throw new Error(`the read model did not reach ${count} rows`);
      await page.waitForTimeout(100);
    }
  }
});
