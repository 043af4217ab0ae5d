/**
 * `schema.graphql` is emitted from the code and committed. This test fails when they drift.
 * Regenerate with `UPDATE_SCHEMA=1 npx vitest run test/api/schema.test.ts` (`npm run schema`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildSchema, printSchemaFile } from '../../src/graphql/schema.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

describe('schema.graphql', () => {
  it('matches the schema built from the code', async () => {
    const printed = printSchemaFile(await buildSchema());
    if (process.env.UPDATE_SCHEMA === '1') {
      writeFileSync(SCHEMA_FILE, printed);
      return;
    }
    const committed = existsSync(SCHEMA_FILE) ? readFileSync(SCHEMA_FILE, 'utf8') : '';
    expect(
      committed,
      'schema.graphql is out of date: run `npm run schema` (UPDATE_SCHEMA=1 npx vitest run test/api/schema.test.ts) and commit the file',
    ).toBe(printed);
  });

  it('describes every type, field, argument and enum value', async () => {
    const schema = await buildSchema();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (
        type.name.startsWith('__') ||
        ['String', 'Int', 'Boolean', 'ID', 'Float'].includes(type.name)
      )
        continue;
      if (!type.description) missing.push(type.name);
      if ('getFields' in type) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if ('getValues' in type) {
        for (const value of type.getValues()) {
          if (!value.description) missing.push(`${type.name}.${value.name}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
