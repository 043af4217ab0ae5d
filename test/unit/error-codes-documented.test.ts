/** The closed list of `extensions.code` values lives in the code and the README: they agree. */
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/codes.js';

it('documents every extensions.code of src/errors/codes.ts in the README', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const undocumented = ERROR_CODES.filter((code) => !readme.includes('`' + code + '`'));
  expect(undocumented).toEqual([]);
});
