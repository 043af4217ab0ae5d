/**
 * The console's link to GraphiQL follows GRAPHQL_LANDING_PAGE: a gateway that serves GraphiQL
 * gets a link that opens it; one that does not (a console-only production setup) gets no link,
 * rather than one to a 404. Real Chromium against two gateways on the built-in simulator.
 */
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { launchChromium, watchedPage, type WatchedPage } from './browser.js';

let browser: Browser;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(gateways.map((gateway) => gateway.stop()));
});

/** A gateway with the console on and GraphiQL as `graphiql` says, and its origin. */
async function gatewayWith(graphiql: boolean): Promise<string> {
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    CONSOLE_ENABLED: 'true',
    GRAPHQL_LANDING_PAGE: String(graphiql),
  });
  const gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
  gateways.push(gateway);
  return new URL(gateway.url).origin;
}

/** A fresh profile on the console of `origin`, signed in, its navigation shown. */
async function signedIn(origin: string): Promise<WatchedPage> {
  const context = await browser.newContext();
  const tab = await watchedPage(context, origin);
  await tab.page.goto(`${origin}/`);
  await tab.page.getByLabel('API key or gateway token').fill(`graphiql-link-${Date.now()}`);
  await tab.page.keyboard.press('Enter');
  await tab.page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
  return tab;
}

describe('the console’s link to GraphiQL', () => {
  it('is there while GraphiQL is served, and opens it', async () => {
    const origin = await gatewayWith(true);
    const tab = await signedIn(origin);
    const { page } = tab;
    const nav = page.getByRole('navigation', { name: 'Console' });
    const link = nav.getByRole('link', { name: 'GraphiQL' });
    await expect(link.getAttribute('href')).resolves.toBe('/graphiql');

    const opened = page.waitForResponse(`${origin}/graphiql`);
    await link.click();
    expect((await opened).status()).toBe(200);
    await page.waitForURL(`${origin}/graphiql`);
    await page.locator('.graphiql-query-editor').waitFor();
    await expect(page.getByRole('button', { name: /Execute query/ }).isVisible()).resolves.toBe(
      true,
    );
    expect(tab.problems).toEqual([]);
    expect(tab.foreign).toEqual([]);
    await page.context().close();
  });

  it('is absent while GraphiQL is off, where /graphiql is a 404', async () => {
    const origin = await gatewayWith(false);
    expect((await fetch(`${origin}/graphiql`, { headers: { accept: 'text/html' } })).status).toBe(
      404,
    );
    const tab = await signedIn(origin);
    const nav = tab.page.getByRole('navigation', { name: 'Console' });
    // The rest of the navigation is there: the link is missing, not the menu.
    await expect(nav.getByRole('link', { name: 'Verify a real person' }).isVisible()).resolves.toBe(
      true,
    );
    await expect(nav.getByRole('link').allTextContents()).resolves.toEqual([
      'Groups',
      'Verify a real person',
    ]);
    await expect(tab.page.locator('a[href*="graphiql"]').count()).resolves.toBe(0);
    expect(tab.problems).toEqual([]);
    expect(tab.foreign).toEqual([]);
    await tab.page.context().close();
  });
});
