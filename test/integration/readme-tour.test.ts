/**
 * The README's examples against the embedded default, in both dialects, run as pasted: the
 * quick-start `curl`, the "Try it" tour and the graphql-ws snippet print what the README shows
 * (for apimart, what its "Dialects" section shows), once ids, tokens, times and the port are
 * normalised.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = `${ROOT}/README.md`;

let readme: string;

beforeAll(async () => {
  readme = await readFile(README, 'utf8');
});

/** The fenced blocks of `section` (up to the next `## `), in order, with their language. */
function blocks(section: string): Array<{ lang: string; code: string }> {
  const start = readme.indexOf(`## ${section}`);
  expect(start, `README section "${section}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 3);
  const text = readme.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

function normalise(text: string): string[] {
  return text
    .replace(/group-\d{14}-[a-z0-9]{5}/g, 'GROUP')
    .replace(/asset-\d{14}-[a-z0-9]{5}/g, 'ASSET')
    .replace(/task_[0-9A-Z]{26}-\d+/g, 'ASSET')
    .replace(/\b\d{14}[0-9A-F]{20}\b/g, 'TOKEN')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z/g, 'TIME')
    .replace(/127\.0\.0\.1:\d+/g, 'HOST')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

/** Runs a block in the repository's folder, as a reader would, against `gateway`. */
async function paste(gateway: RunningGateway, code: string): Promise<string> {
  const origin = new URL(gateway.url).origin;
  const script = code.replaceAll('http://127.0.0.1:4000', origin);
  const { stdout } = await run('bash', ['-c', script], { timeout: 30_000, cwd: ROOT });
  return stdout;
}

/** The `text` blocks of the README's "Dialects" section: apimart's tour, then its snippet. */
function apimartShown(): { tour: string; snippet: string } {
  const [tour, snippet] = blocks('Dialects').filter((b) => b.lang === 'text');
  return { tour: tour!.code, snippet: snippet!.code };
}

describe.each(['ark', 'apimart'] as const)(
  'README examples with UPSTREAM_DIALECT=%s',
  (dialect) => {
    let gateway: RunningGateway;

    beforeAll(async () => {
      // As `npm start` runs it: the default activation delay, which the tour's `sleep 4` relies on.
      gateway = await startGateway(
        loadConfig({ PORT: '0', LOG_LEVEL: 'silent', UPSTREAM_DIALECT: dialect }),
        { logger: pino({ level: 'silent' }) },
      );
    });

    afterAll(() => gateway?.stop());

    it('the quick-start curl prints what the README shows', async () => {
      const found = blocks('Quick start');
      const curl = found.find((b) => b.lang === 'sh' && b.code.includes('curl'))!;
      const shown = found[found.indexOf(curl) + 1]!;
      expect(normalise(await paste(gateway, curl.code))).toEqual(normalise(shown.code));
    });

    it('the tour runs every operation and prints what the README shows', async () => {
      const [tour, shown] = blocks('Try it').filter((b) => b.lang === 'sh' || b.lang === 'text');
      const output = await paste(gateway, tour!.code);
      const expected = dialect === 'ark' ? shown!.code : apimartShown().tour;
      expect(normalise(output)).toEqual(normalise(expected));
      // Every operation of the API appears in the tour.
      for (const operation of [
        'groups',
        'group(',
        'asset(',
        'assets(',
        'createGroup',
        'updateGroup',
        'deleteGroup',
        'addAssets',
        'renameAsset',
        'deleteAsset',
        'startRealPersonVerification',
        'completeRealPersonVerification',
      ]) {
        expect(tour!.code).toContain(operation);
      }
    }, 30_000);

    it('the graphql-ws snippet shows each new asset PROCESSING, then ACTIVE or FAILED', async () => {
      const [snippet, shown] = blocks('Live status').filter(
        (b) => b.lang === 'sh' || b.lang === 'text',
      );
      const output = normalise(await paste(gateway, snippet!.code));
      const expected = dialect === 'ark' ? shown!.code : apimartShown().snippet;
      // The two uploads run concurrently, so their PROCESSING lines may come in either order.
      expect([...output].sort()).toEqual([...normalise(expected)].sort());
      const failed = output.findIndex((line) => line.startsWith('side: PROCESSING -> FAILED'));
      expect(output.indexOf('front: PROCESSING -> ACTIVE')).toBeGreaterThan(
        output.indexOf('front: new -> PROCESSING'),
      );
      expect(failed).toBeGreaterThan(output.indexOf('side: new -> PROCESSING'));
    }, 30_000);
  },
);
