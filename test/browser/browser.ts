/**
 * What the browser tests share: Debian's Chromium (test/helpers/chromium.ts); a page that fails
 * the test on any console error or CSP violation and refuses any request that leaves the
 * gateway's origin (the console must work offline); axe-core; pixels read back from screenshots.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export { launchChromium } from '../helpers/chromium.js';

const require = createRequire(import.meta.url);

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and CSP violations seen so far. */
  problems: string[];
  /** Requests to another origin (refused). */
  foreign: string[];
}

/** A page on `context` that records problems and refuses requests to other origins. */
export async function watchedPage(context: BrowserContext, origin: string): Promise<WatchedPage> {
  const page = await context.newPage();
  const problems: string[] = [];
  const foreign: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    // WebSockets are not routed here; graphql-ws reaches the same origin (CSP connect-src).
    if (url.startsWith(`${origin}/`)) return route.continue();
    foreign.push(url);
    return route.abort('internetdisconnected');
  });
  return { page, problems, foreign };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown }>;
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const source = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated, not injected as a <script>: the page's CSP allows only its own scripts.
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${JSON.stringify(v.nodes.map((n) => n.target))})`);
}

/** Controls without an accessible name (label, aria-label, or text). */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const controls = document.querySelectorAll<HTMLElement>(
      'input:not([type=hidden]), select, textarea, button, a[href]',
    );
    return [...controls]
      .filter((el) => {
        const labelled =
          (el as HTMLInputElement).labels?.length ||
          el.getAttribute('aria-label') ||
          el.getAttribute('aria-labelledby') ||
          (el.textContent ?? '').trim();
        return !labelled && el.getClientRects().length > 0;
      })
      .map((el) => el.outerHTML.slice(0, 120));
  });
}

export interface Pixels {
  width: number;
  height: number;
  /** RGBA, row by row. */
  data: Uint8ClampedArray;
}

/** Decodes a PNG screenshot in a blank page (no PNG library needed). */
export async function pixelsOf(browser: Browser, png: Buffer): Promise<Pixels> {
  const page = await browser.newPage();
  try {
    const { width, height, data } = await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d')!;
      context.drawImage(bitmap, 0, 0);
      const image = context.getImageData(0, 0, bitmap.width, bitmap.height);
      return { width: image.width, height: image.height, data: Array.from(image.data) };
    }, png.toString('base64'));
    return { width, height, data: Uint8ClampedArray.from(data) };
  } finally {
    await page.close();
  }
}

/** The most frequent colour of a screenshot that is neither near-white nor near-grey. */
export function dominantColour({ data }: Pixels): [number, number, number] | null {
  const counts = new Map<string, number>();
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
    if (Math.max(r, g, b) - Math.min(r, g, b) < 24) continue;
    const key = `${r >> 4},${g >> 4},${b >> 4}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  if (!top) return null;
  return top[0].split(',').map((n) => Number(n) * 16 + 8) as [number, number, number];
}
