/**
 * docker-compose.yml cannot be run here (no Docker engine), so it is validated by the real
 * docker-compose, and its wiring is checked: both gateways point at the standalone simulator
 * service (built from this image), with Prism serving this repository's contract beside it, and
 * each service's environment is one its own config loader accepts in production.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, loadSimulatorConfig } from '../../src/config/index.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

async function composeConfig(dir: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      cwd: dir,
    });
    return { ok: true, output: stdout };
  } catch (error) {
    const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
    return { ok: false, output: stderr + stdout };
  }
}

describe('docker-compose.yml', () => {
  it('is valid for docker-compose', async () => {
    const result = await composeConfig(root);
    expect(result.output).not.toMatch(/error/i);
    expect(result.ok).toBe(true);
  });

  it('runs two gateway replicas on Redis behind one entry point, on the standalone simulator', async () => {
    const compose = parse(await readFile(path.join(root, 'docker-compose.yml'), 'utf8'));
    const { simulator, prism, redis, lb } = compose.services;
    const dockerfile = await readFile(path.join(root, 'Dockerfile'), 'utf8');
    // The runtime stage's `ENV` line: what every container starts with.
    const imageEnv = Object.fromEntries(
      [...dockerfile.matchAll(/^ENV (.+)$/gm)]
        .flatMap((m) => m[1]!.split(/\s+/))
        .map((pair) => pair.split('=') as [string, string]),
    );
    expect(imageEnv['NODE_ENV']).toBe('production');

    expect(simulator.build).toBe('.');
    expect(simulator.command).toEqual(['node', 'dist/simulator/main.js']);
    const simulated = loadSimulatorConfig({ ...imageEnv, ...simulator.environment });
    expect(simulated.host).toBe('0.0.0.0');
    expect(simulator.ports).toContain(`${simulated.port}:${simulated.port}`);

    for (const name of ['gateway-1', 'gateway-2']) {
      const gateway = compose.services[name];
      expect(gateway.build).toBe('.');
      expect(gateway.depends_on).toContain('simulator');
      const config = loadConfig({ ...imageEnv, ...gateway.environment });
      expect(config).toMatchObject({
        nodeEnv: 'production',
        upstreamUrl: `http://simulator:${simulated.port}`,
        redisUrl: 'redis://redis:6379',
        host: '0.0.0.0',
        // Behind nginx, which sets X-Forwarded-For: the per-address limits are per client.
        trustProxyHops: 1,
      });
    }
    expect(prism.image).toBe('stoplight/prism:5.14.2');
    expect(prism.volumes).toContain('./mocks:/contract:ro');
    expect(prism.command).toContain('/contract/openapi.yaml');
    expect(redis.image).toMatch(/^redis:/);
    expect(lb.ports).toContain('4000:4000');
    const nginx = await readFile(path.join(root, 'deploy/nginx.conf'), 'utf8');
    expect(nginx).toContain('server gateway-1:4000');
    expect(nginx).toContain('server gateway-2:4000');
    expect(nginx).toMatch(/proxy_set_header Upgrade/);
    expect(nginx).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
  });

  it('is refused by the validator when broken (the check can fail)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'compose-'));
    try {
      const broken = (await readFile(path.join(root, 'docker-compose.yml'), 'utf8')).replace(
        "ports:\n      - '4010:4010'",
        'ports: 4010',
      );
      await writeFile(path.join(dir, 'docker-compose.yml'), broken);
      const result = await composeConfig(dir);
      expect(result.ok).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
