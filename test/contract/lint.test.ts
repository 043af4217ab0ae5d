/**
 * Spectral with the repository's ruleset: the contract lints clean, and each house rule in
 * `.spectral.yaml` fires on a copy of the contract broken the way the rule forbids. Without the
 * second half a rule with a wrong `given` path would pass everything, silently.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { CONTRACT_PATH } from '../helpers/prism.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SPECTRAL_BIN = path.join(root, 'node_modules/@stoplight/spectral-cli/dist/index.js');
const RULESET = path.join(root, '.spectral.yaml');
const ARK_PATH = /^\/v1\/(private|real)-avatar\//;
const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

interface SpectralResult {
  code: string;
  path: string[];
  severity: number;
  message: string;
  source?: string;
}

interface LintRun {
  exitCode: number;
  results: SpectralResult[];
}

/** Runs Spectral's CLI as `npm run lint:contract` does, with JSON output. */
function lint(documents: string[]): Promise<LintRun> {
  const args = [
    SPECTRAL_BIN,
    'lint',
    '--ruleset',
    RULESET,
    '--fail-severity=warn',
    '--format',
    'json',
    '--quiet',
    ...documents,
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: root, timeout: 30_000 }, (error, stdout, stderr) => {
      const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      try {
        resolve({ exitCode, results: JSON.parse(stdout) as SpectralResult[] });
      } catch {
        reject(new Error(`spectral printed no JSON (exit ${exitCode}):\n${stdout}\n${stderr}`));
      }
    });
  });
}

type Document = Record<string, any>;

/** The first Ark-style operation, as `[path, method]`: the one the mutations break. */
function firstArkOperation(doc: Document): [string, string] {
  for (const [route, item] of Object.entries(doc.paths as Record<string, Document>)) {
    if (!ARK_PATH.test(route)) continue;
    const method = METHODS.find((m) => item[m]);
    if (method) return [route, method];
  }
  throw new Error('the contract has no Ark-style operation');
}

interface Mutation {
  name: string;
  rule: string;
  /** Breaks `doc` in place; returns the JSON path where the rule must report. */
  mutate(doc: Document): string[];
}

const inlineError = (withExamples: boolean, headers?: Document) => ({
  description: 'Inline error response',
  ...(headers ? { headers } : {}),
  content: {
    'application/json': {
      schema: { $ref: '#/components/schemas/ErrorResponse' },
      ...(withExamples
        ? {
            examples: {
              Throttling: {
                value: { ResponseMetadata: { RequestId: 'r', Error: { Code: 'Throttling' } } },
              },
            },
          }
        : {}),
    },
  },
});

const mutations: Mutation[] = [
  {
    name: 'an Ark operation without its 429',
    rule: 'ark-error-responses',
    mutate(doc) {
      const [route, method] = firstArkOperation(doc);
      delete doc.paths[route][method].responses['429'];
      return ['paths', route, method, 'responses'];
    },
  },
  {
    name: 'an Ark operation without its 500',
    rule: 'ark-error-responses',
    mutate(doc) {
      const [route, method] = firstArkOperation(doc);
      delete doc.paths[route][method].responses['500'];
      return ['paths', route, method, 'responses'];
    },
  },
  {
    name: 'the shared 429 response without Retry-After',
    rule: 'rate-limit-retry-after',
    mutate(doc) {
      delete doc.components.responses.TooManyRequests.headers;
      return ['components', 'responses', 'TooManyRequests'];
    },
  },
  {
    name: 'an operation’s own 429 response without Retry-After',
    rule: 'rate-limit-retry-after',
    mutate(doc) {
      const [route, method] = firstArkOperation(doc);
      doc.paths[route][method].responses['429'] = inlineError(true);
      return ['paths', route, method, 'responses', '429'];
    },
  },
  {
    name: 'a shared error response without examples',
    rule: 'error-examples',
    mutate(doc) {
      delete doc.components.responses.Forbidden.content['application/json'].examples;
      return ['components', 'responses', 'Forbidden', 'content', 'application/json'];
    },
  },
  {
    name: 'an operation’s own error response without examples',
    rule: 'error-examples',
    mutate(doc) {
      const [route, method] = firstArkOperation(doc);
      doc.paths[route][method].responses['404'] = inlineError(false);
      return ['paths', route, method, 'responses', '404', 'content', 'application/json'];
    },
  },
  {
    name: 'a snake_case operationId',
    rule: 'operation-id-camel-case',
    mutate(doc) {
      const [route, method] = firstArkOperation(doc);
      doc.paths[route][method].operationId = 'create_asset_group';
      return ['paths', route, method, 'operationId'];
    },
  },
];

let workdir: string;
let contractRun: LintRun;
let mutantRun: LintRun;
const mutants = new Map<string, { file: string; path: string[] }>();

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), 'contract-lint-'));
  const source = await readFile(CONTRACT_PATH, 'utf8');
  for (const [index, mutation] of mutations.entries()) {
    const doc = parse(source) as Document;
    const where = mutation.mutate(doc);
    const file = path.join(workdir, `mutant-${index}.yaml`);
    await writeFile(file, stringify(doc));
    mutants.set(mutation.name, { file, path: where });
  }
  // Two Spectral processes in parallel: the real contract alone (its exit code matters), and
  // every mutant in one run (results carry their `source`).
  [contractRun, mutantRun] = await Promise.all([
    lint([CONTRACT_PATH]),
    lint([...mutants.values()].map(({ file }) => file)),
  ]);
}, 60_000);

afterAll(async () => {
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

describe('Spectral on mocks/openapi.yaml', () => {
  it('reports no problem at any severity and exits 0', () => {
    expect(contractRun.results).toEqual([]);
    expect(contractRun.exitCode).toBe(0);
  });

  it('uses a ruleset that defines every house rule tested below', async () => {
    const ruleset = parse(await readFile(RULESET, 'utf8')) as { rules: Record<string, unknown> };
    for (const { rule } of mutations) expect(Object.keys(ruleset.rules)).toContain(rule);
  });
});

describe('the house rules fire', () => {
  it('on the mutants, failing the lint', () => {
    expect(mutantRun.exitCode).not.toBe(0);
  });

  it.each(mutations.map((m) => [m.rule, m.name] as const))('%s on %s', (rule, name) => {
    const mutant = mutants.get(name)!;
    const found = mutantRun.results
      .filter((result) => result.source && path.resolve(result.source) === mutant.file)
      .map((result) => ({ code: result.code, path: result.path, severity: result.severity }));
    // Severity 0 is `error`: the rules are meant to fail `npm run lint:contract`.
    expect(found).toContainEqual({ code: rule, path: mutant.path, severity: 0 });
  });
});
