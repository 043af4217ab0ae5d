/**
 * The simulator's H5 liveness page, clicked in a real (headless) Chromium: one click completes
 * the verification and sends the browser to the callback URL with the upstream's parameters.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/ark-http.js';
import { SimulatorState } from '../../src/simulator/state.js';
import { launchChromium } from '../helpers/chromium.js';

const CREDENTIAL = { credential: 'h5-test-key' };

let browser: Browser;
let callback: Server;
let callbackUrl: string;
const callbacks: URL[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  callback = createServer((req, res) => {
    const url = new URL(req.url ?? '/', callbackUrl);
    if (url.pathname === '/verification/done') callbacks.push(url); // not /favicon.ico
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Back in the app</h1>');
  });
  await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
  callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/verification/done`;
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => callback?.close(resolve));
});

async function withSimulator<T>(run: (sim: RunningSimulator, state: SimulatorState) => Promise<T>) {
  // The H5 link must point at the running simulator, so the state is created once its port is known.
  const probe = await startSimulator(new SimulatorState());
  const port = new URL(probe.url).port;
  await probe.stop();
  const state = new SimulatorState({ h5BaseUrl: `http://127.0.0.1:${port}` });
  const sim = await startSimulator(state, { port: Number(port) });
  try {
    return await run(sim, state);
  } finally {
    await sim.stop();
  }
}

describe('the simulated H5 liveness page in Chromium', () => {
  it('passes the check with one click and redirects to the callback with resultCode=10000', async () => {
    await withSimulator(async (_sim, state) => {
      const session = await state.startVerification(CREDENTIAL, { callbackUrl });
      expect(await state.completeVerification(CREDENTIAL, session.token)).toEqual({
        status: 'PENDING',
      });

      const page = await browser.newPage();
      await page.goto(session.h5Link);
      expect(await page.title()).toBe('Simulated liveness check');
      await page.click('#pass');
      await page.waitForURL(/verification\/done/);
      expect(await page.textContent('h1')).toBe('Back in the app');
      await page.close();

      const landed = callbacks.at(-1)!;
      expect(landed.searchParams.get('bytedToken')).toBe(session.token);
      expect(landed.searchParams.get('resultCode')).toBe('10000');
      const result = await state.completeVerification(CREDENTIAL, session.token);
      expect(result.status).toBe('VERIFIED');
    });
  });

  it('fails the check with the other button', async () => {
    await withSimulator(async (_sim, state) => {
      const session = await state.startVerification(CREDENTIAL, { callbackUrl });
      const page = await browser.newPage();
      await page.goto(session.h5Link);
      await page.click('#fail');
      await page.waitForURL(/verification\/done/);
      await page.close();
      expect(callbacks.at(-1)!.searchParams.get('resultCode')).not.toBe('10000');
      await expect(state.completeVerification(CREDENTIAL, session.token)).rejects.toMatchObject({
        code: 'VERIFICATION_FAILED',
      });
    });
  });
});
