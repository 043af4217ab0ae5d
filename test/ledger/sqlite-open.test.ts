/**
 * A new SQLite ledger opened by several connections at once (a gateway and the CLI, or parallel
 * test workers on the default `./data` file): every one opens, with the schema migrated once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ledger-open-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('opens a new file from three connections at once, ten times over', async () => {
  for (let round = 0; round < 10; round++) {
    const path = join(dir, `round-${round}`, 'ledger.sqlite');
    const opened = await Promise.allSettled([1, 2, 3].map(() => openLedger({ path })));
    const ledgers = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    try {
      expect(opened.filter((o) => o.status === 'rejected')).toEqual([]);
      await ledgers[0]!.recordGroup('t', { id: `g-${round}`, kind: 'VIRTUAL' });
      expect(await ledgers[2]!.ownerOf('group', `g-${round}`)).toBe('t');
    } finally {
      await Promise.all(ledgers.map((l) => l.close()));
    }
  }
});
