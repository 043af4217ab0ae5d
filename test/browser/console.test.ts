/**
 * The console and GraphiQL as a person uses them: a real Chromium against the gateway on its
 * built-in simulator, nothing but the gateway's origin reachable. A person creates groups,
 * filters them, adds assets and watches them turn ACTIVE and FAILED without reloading, renames
 * and deletes; starts a real-person verification and passes it on "a phone" (a second page);
 * runs a query in GraphiQL. Each step is checked on what is visible (screenshots included),
 * with axe-core and keyboard checks along the way.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import jsQR from 'jsqr';
import { pino } from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { startSimulator } from '../../src/simulator/ark-http.js';
import { SimulatorState } from '../../src/simulator/state.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import {
  dominantColour,
  launchChromium,
  pixelsOf,
  seriousViolations,
  unlabelledControls,
  watchedPage,
  type WatchedPage,
} from './browser.js';

const SHOTS = new URL('../../build/screenshots/', import.meta.url);
/** `UPDATE_SCREENSHOT=1` also rewrites the README's picture of the console. */
const README_SHOT = new URL('../../console/screenshot.png', import.meta.url);

let gateway: RunningGateway;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  const config = loadConfig({
    PORT: '0',
    SIMULATOR_ACTIVATION_MS: '1500',
    POLL_INTERVAL_MS: '100',
    LOG_LEVEL: 'silent',
  });
  gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
  origin = new URL(gateway.url).origin;
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
});

/** A fresh browser profile (its own sessionStorage) signed in with `key`. */
async function signedIn(key: string): Promise<{ context: BrowserContext; tab: WatchedPage }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const tab = await watchedPage(context, origin);
  await tab.page.goto(`${origin}/`);
  await tab.page.getByLabel('API key or gateway token').fill(key);
  await tab.page.keyboard.press('Enter');
  await tab.page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
  return { context, tab };
}

async function shot(page: Page, name: string): Promise<Buffer> {
  const png = await page.screenshot({ fullPage: true });
  await writeFile(new URL(`${name}.png`, SHOTS), png);
  return png;
}

async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
  expect(await unlabelledControls(page)).toEqual([]);
}

/** Clicks through a confirmation dialog's confirming button. */
async function confirm(page: Page, button: string): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: button, exact: true }).click();
}

describe('the console', () => {
  it('asks for a key first, accessibly, and keeps it for the tab only', async () => {
    const context = await browser.newContext();
    const { page, problems, foreign } = await watchedPage(context, origin);
    await page.goto(`${origin}/`);
    await expect(
      page.getByRole('heading', { name: 'avatar-gateway console' }).isVisible(),
    ).resolves.toBe(true);
    await expectAccessible(page);
    await page.getByLabel('API key or gateway token').fill('console-tab-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([1, 0]);
    // Another tab (a new context here) starts signed out.
    const other = await context.newPage();
    await other.goto(`${origin}/`);
    await other.getByLabel('API key or gateway token').waitFor();
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  });

  it('creates, filters, renames and deletes groups, and adds assets that turn ACTIVE and FAILED live', async () => {
    const { context, tab } = await signedIn(`console-groups-${Date.now()}`);
    const { page } = tab;
    const list = page.getByRole('region', { name: 'Your groups' });

    // The empty state says what to do first.
    await page.getByText('No groups yet.').waitFor();
    await expectAccessible(page);
    await shot(page, '1-empty');

    // Create two groups from the keyboard alone.
    for (const name of ['mascot', 'sidekick']) {
      await page.getByLabel('Name', { exact: true }).focus();
      await page.keyboard.type(name);
      await page.keyboard.press('Enter');
      await list.getByRole('link', { name, exact: true }).waitFor();
    }
    await expect(list.getByRole('row').count()).resolves.toBe(3); // header + 2

    // Filters: by name, then by kind.
    await page.getByLabel('Name contains').fill('side');
    await expect.poll(() => list.getByRole('row').count()).toBe(2);
    await expect(list.getByRole('link', { name: 'sidekick' }).isVisible()).resolves.toBe(true);
    await page.getByLabel('Name contains').fill('');
    await page.getByLabel('Kind').selectOption('REAL');
    await page.getByText('No group matches these filters.').waitFor();
    await page.getByLabel('Kind').selectOption('');
    await expect.poll(() => list.getByRole('row').count()).toBe(3);

    // Rename one in the list.
    await page.getByRole('button', { name: 'Rename group sidekick' }).click();
    await page.getByLabel('New name of group sidekick').fill('sidekick-2');
    await page.keyboard.press('Enter');
    await list.getByRole('link', { name: 'sidekick-2' }).waitFor();

    // A group's page: add a batch of three URLs.
    await list.getByRole('link', { name: 'mascot', exact: true }).click();
    await page.getByRole('heading', { name: 'mascot', level: 1 }).waitFor();
    await page.getByText('No assets yet.').waitFor();
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await page.getByLabel('URL of item 1').fill('https://cdn.example.com/front.jpg');
    await page.getByLabel('Name of item 1 (optional)').fill('front');
    await page.getByRole('button', { name: 'Add another URL' }).click();
    await page.getByLabel('URL of item 2').fill('https://cdn.example.com/fail-face.jpg');
    await page.getByLabel('Name of item 2 (optional)').fill('side-view');
    await page.getByRole('button', { name: 'Add another URL' }).click();
    await page.getByLabel('URL of item 3').fill('https://cdn.example.com/download-fails.jpg');
    await page.getByRole('button', { name: 'Add assets', exact: true }).click();

    // The failed item stays in the form with its reason beside it; the others were added.
    await page.getByText('2 assets added').waitFor();
    await expect(page.getByLabel('URL of item 1').inputValue()).resolves.toBe(
      'https://cdn.example.com/download-fails.jpg',
    );
    const itemFailure = page.locator('.item-failure');
    await expect(itemFailure.textContent()).resolves.toMatch(
      /Not added: .*could not download.*InvalidParameter\.DownloadFailed/,
    );
    const front = page.locator('tr', { hasText: 'front' });
    const side = page.locator('tr', { hasText: 'side-view' });
    await expect(front.getAttribute('data-status')).resolves.toBe('PROCESSING');
    await expect(front.getByText('Processing').isVisible()).resolves.toBe(true);

    // Live, without a reload: one turns ACTIVE (with a preview), the other FAILED with its reason.
    await front.and(page.locator('[data-status=ACTIVE]')).waitFor({ timeout: 15_000 });
    await side.and(page.locator('[data-status=FAILED]')).waitFor({ timeout: 15_000 });
    expect(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
    ).toBe(true);
    await expect(side.textContent()).resolves.toContain('Face consistency verification failed.');
    await expect(side.textContent()).resolves.toContain('FaceMismatch');
    const preview = front.getByRole('img', { name: 'Preview of front' });
    await expect
      .poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth))
      .toBeGreaterThan(0);

    // What a person sees: a green Active badge and a red Failed one.
    const green = dominantColour(
      await pixelsOf(browser, await front.locator('.badge').screenshot()),
    );
    const red = dominantColour(await pixelsOf(browser, await side.locator('.badge').screenshot()));
    expect(green![1]).toBeGreaterThan(green![0]);
    expect(red![0]).toBeGreaterThan(red![1]);
    await expectAccessible(page);
    const overview = await shot(page, '2-group-live');
    if (process.env['UPDATE_SCREENSHOT']) await writeFile(README_SHOT, overview);

    // The asset:// URI, copied.
    const uri = (await front.locator('code.uri').textContent())!;
    expect(uri).toMatch(/^asset:\/\/asset-/);
    await front.getByRole('button', { name: 'Copy URI of front' }).click();
    await front.getByRole('button', { name: 'Copy URI of front' }).getByText('Copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(uri);
    // A failed asset offers no URI to copy: it cannot be used.
    await expect(side.textContent()).resolves.toContain('not usable: the asset failed');
    expect(await side.getByRole('button', { name: /^Copy URI/ }).count()).toBe(0);

    // Rename, then delete (confirmed) an asset.
    await front.getByRole('button', { name: 'Rename asset front' }).click();
    await page.getByLabel('New name of asset front').fill('front-v2');
    await page.keyboard.press('Enter');
    const renamed = page.locator('tr', { hasText: 'front-v2' });
    await renamed.waitFor();
    await renamed.getByRole('button', { name: 'Delete asset front-v2' }).click();
    await confirm(page, 'Delete');
    await renamed.waitFor({ state: 'detached' });
    await expect(page.locator('tbody tr').count()).resolves.toBe(1);

    // Rename the group, then delete it from its page with the keyboard (confirmed).
    await page.getByRole('button', { name: 'Rename group mascot' }).click();
    await page.getByLabel('New name of group mascot').fill('mascot-final');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'mascot-final', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Delete group' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    // Focus starts on Cancel; Tab reaches the confirming button.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
    await list.getByRole('link', { name: 'sidekick-2' }).waitFor();
    await expect(list.getByRole('link', { name: 'mascot-final' }).count()).resolves.toBe(0);

    await page.getByRole('button', { name: 'Delete group sidekick-2' }).click();
    await confirm(page, 'Delete');
    await page.getByText('No groups yet.').waitFor();

    expect(tab.problems).toEqual([]);
    expect(tab.foreign).toEqual([]);
    await context.close();
  });

  it('runs a real-person verification: QR code and link, live PENDING -> VERIFIED, the new group', async () => {
    const { context, tab } = await signedIn(`console-verify-${Date.now()}`);
    const { page } = tab;
    await page.getByRole('navigation').getByRole('link', { name: 'Verify a real person' }).click();
    const before = Date.now();
    await page.getByRole('button', { name: 'Start verification' }).click();
    const link = page.locator('a.h5');
    await link.waitFor();
    const after = Date.now();
    const h5Link = (await link.getAttribute('href'))!;
    expect(h5Link).toMatch(/\/simulator\/h5\/verify\?token=/);

    // When to open the link by (120 s after the start) and when the token ends (30 minutes).
    const instant = async (selector: string) => {
      const time = page.locator(selector);
      const iso = (await time.getAttribute('datetime'))!;
      const local = await page.evaluate((value) => new Date(value).toLocaleTimeString(), iso);
      await expect(time.textContent()).resolves.toBe(local);
      return { at: Date.parse(iso), local };
    };
    const linkBy = await instant('time.link-expiry');
    const tokenBy = await instant('time.token-expiry');
    expect(linkBy.at).toBeGreaterThanOrEqual(before + 120_000);
    expect(linkBy.at).toBeLessThanOrEqual(after + 120_000);
    expect(tokenBy.at - linkBy.at).toBe(30 * 60_000 - 120_000);
    await expect(page.locator('p.deadline').textContent()).resolves.toContain(
      `Open the link before ${linkBy.local}:`,
    );
    await expect(page.getByText(/token can be exchanged until/).textContent()).resolves.toContain(
      tokenBy.local,
    );
    await expect(page.locator('[data-status=PENDING]').textContent()).resolves.toMatch(/Waiting/);
    await expectAccessible(page);
    await shot(page, '3-verification-pending');

    // The QR code on screen is the link.
    const qr = await pixelsOf(
      browser,
      await page.getByRole('img', { name: /QR code/ }).screenshot(),
    );
    expect(jsQR(qr.data, qr.width, qr.height)?.data).toBe(h5Link);

    // "The phone": a second page opens the link and passes the check.
    const phone = await context.newPage();
    await phone.goto(h5Link);
    await phone.click('#pass');
    await phone.getByRole('heading', { name: 'Liveness check finished' }).waitFor();

    await page.locator('[data-status=VERIFIED]').waitFor({ timeout: 15_000 });
    const group = page.getByRole('link', { name: /^Verified person/ });
    await group.click();
    await page.getByRole('heading', { level: 1, name: /^Verified person/ }).waitFor();
    await page.getByText(/^Real-person group · group-/).waitFor();
    await shot(page, '4-verified-group');

    // A failed check shows as such.
    await page.getByRole('navigation').getByRole('link', { name: 'Verify a real person' }).click();
    await page.getByRole('button', { name: 'Start verification' }).click();
    const second = (await page.locator('a.h5').getAttribute('href'))!;
    await phone.goto(second);
    await phone.click('#fail');
    await page.locator('[data-status=FAILED]').waitFor({ timeout: 15_000 });
    await expect(page.locator('[data-status=FAILED]').textContent()).resolves.toMatch(
      /did not pass/,
    );

    expect(tab.problems).toEqual([]);
    expect(tab.foreign).toEqual([]);
    await context.close();
  });

  it('shows an asset as stale while the upstream fails, and recovered after, without a reload', async () => {
    // A gateway in front of a stand-alone simulator, through a proxy that can fail on command.
    const sim = await startSimulator(new SimulatorState({ activationMs: 600_000 }));
    const proxy = await startFaultProxy(sim.url);
    const faulty = await startGateway(
      loadConfig({
        PORT: '0',
        LOG_LEVEL: 'silent',
        UPSTREAM_URL: proxy.url,
        UPSTREAM_TIMEOUT_MS: '1000',
        POLL_INTERVAL_MS: '100',
      }),
      { logger: pino({ level: 'silent' }) },
    );
    const faultyOrigin = new URL(faulty.url).origin;
    const context = await browser.newContext();
    try {
      const { page, problems } = await watchedPage(context, faultyOrigin);
      await page.goto(`${faultyOrigin}/`);
      await page.getByLabel('API key or gateway token').fill(`console-stale-${Date.now()}`);
      await page.keyboard.press('Enter');
      await page.getByLabel('Name', { exact: true }).fill('slow');
      await page.keyboard.press('Enter');
      await page
        .getByRole('region', { name: 'Your groups' })
        .getByRole('link', { name: 'slow' })
        .click();
      await page.getByLabel('URL of item 1').fill('https://cdn.example.com/slow.jpg');
      await page.getByRole('button', { name: 'Add assets', exact: true }).click();
      const row = page.locator('tbody tr');
      await row.and(page.locator('[data-status=PROCESSING]')).waitFor();
      await page.getByText('Live: statuses update by themselves.').waitFor();

      await proxy.set('503');
      const stale = row.locator('.stale');
      await stale.waitFor({ timeout: 15_000 });
      await expect(stale.textContent()).resolves.toMatch(
        /Stale: cannot confirm since .*UPSTREAM_UNAVAILABLE/,
      );
      await shot(page, '6-stale');
      await proxy.set('pass');
      await stale.waitFor({ state: 'detached', timeout: 15_000 });
      await expect(row.getAttribute('data-status')).resolves.toBe('PROCESSING');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await faulty.stop();
      await proxy.stop();
      await sim.stop();
    }
  });

  it('shows a clear message for an error code', async () => {
    const { context, tab } = await signedIn(`console-errors-${Date.now()}`);
    const { page } = tab;
    await page.goto(`${origin}/#/groups/group-that-does-not-exist`);
    await page.getByRole('heading', { name: 'Group not found' }).waitFor();
    // A mutation the upstream refuses: a callback URL that is not https.
    await page.goto(`${origin}/#/verify`);
    await page.getByLabel(/callback URL/).fill('http://app.example.com/done');
    await page.getByRole('button', { name: 'Start verification' }).click();
    const alert = page.getByRole('alert');
    await expect(alert.getAttribute('data-code')).resolves.toBe('BAD_USER_INPUT');
    await expect(alert.textContent()).resolves.toMatch(
      /Something you entered was not accepted.*https/,
    );
    await context.close();
  });
});

describe('GraphiQL at /graphiql', () => {
  it('runs a query offline, with the console’s key', async () => {
    const { context, tab } = await signedIn(`console-graphiql-${Date.now()}`);
    const { page } = tab;
    const schemaLoaded = page.waitForResponse(
      (response) =>
        response.url() === `${origin}/graphql` &&
        (response.request().postData() ?? '').includes('IntrospectionQuery'),
    );
    await page.getByRole('navigation').getByRole('link', { name: 'GraphiQL' }).click();
    await page.waitForURL(`${origin}/graphiql`);
    expect((await schemaLoaded).status()).toBe(200);
    await expect
      .poll(() => page.locator('.graphiql-query-editor').innerText())
      .toContain('query Groups');
    const run = page.getByRole('button', { name: /Execute query/ });
    await run.click();
    const result = page.locator('.result-window');
    await expect
      .poll(() => result.innerText(), { timeout: 10_000 })
      .toMatch(/"groups":.*"total": 0/s);
    await shot(page, '5-graphiql');
    expect(tab.problems).toEqual([]);
    expect(tab.foreign).toEqual([]);
    await context.close();
  });
});
