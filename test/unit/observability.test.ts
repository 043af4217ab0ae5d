import { describe, expect, it } from 'vitest';
import { createLogger, createScrubber } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';

function capture(secrets: string[] = []) {
  const lines: string[] = [];
  const logger = createLogger(
    { level: 'debug', secrets },
    { write: (line: string) => void lines.push(line) },
  );
  return { logger, lines, text: () => lines.join('') };
}

describe('the logger', () => {
  it('redacts secret fields at the top, one level down and in headers', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        authorization: 'Bearer top-secret-1',
        credential: 'cred-secret-2',
        req: { headers: { authorization: 'Basic abc', 'user-agent': 'curl' } },
        opts: { credential: 'cred-secret-3', requestId: 'req-7' },
        result: {
          h5Link: 'https://h5.example.com/verify?token=tok-secret-4',
          token: 'tok-secret-5',
        },
      },
      'hello',
    );
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      authorization: '[Redacted]',
      credential: '[Redacted]',
      req: { headers: { authorization: '[Redacted]', 'user-agent': 'curl' } },
      opts: { credential: '[Redacted]', requestId: 'req-7' },
      result: { h5Link: '[Redacted]', token: '[Redacted]' },
    });
    expect(lines[0]).not.toMatch(/secret-\d/);
  });

  it('scrubs Bearer values and configured secrets wherever they appear, errors included', () => {
    const { logger, text } = capture(['sk-server-key-123', 'gateway-token-"quoted"']);
    logger.error(
      { err: new Error('upstream said: invalid key sk-server-key-123 (Bearer abc.def.ghi)') },
      'failed with gateway-token-"quoted" in hand',
    );
    expect(text()).not.toContain('sk-server-key-123');
    expect(text()).not.toContain('abc.def.ghi');
    expect(text()).not.toContain('quoted');
    expect(text()).toContain('Bearer [Redacted]');
    expect(JSON.parse(text()).msg).toBe('failed with [Redacted] in hand');
  });

  it('ignores secrets too short to scrub safely', () => {
    expect(createScrubber(['abc', null])('abc def')).toBe('abc def');
  });
});

describe('metrics', () => {
  it('keeps a registry per instance', async () => {
    const one = createMetrics();
    const two = createMetrics();
    one.countRequest('query');
    expect(await one.registry.metrics()).toContain(
      'graphql_requests_total{operation_type="query"} 1',
    );
    expect(await two.registry.metrics()).not.toContain('operation_type="query"');
  });

  it('exposes every documented series', async () => {
    const metrics = createMetrics();
    metrics.countRequest('mutation');
    metrics.countRequest('bogus' as never);
    metrics.countError('RATE_LIMITED');
    metrics.countError('SOMETHING_NEW');
    metrics.upstream.observe('GetAsset', 'ok', 0.042);
    metrics.upstream.observe('GetAsset', 'UPSTREAM_TIMEOUT', 10);
    metrics.watcher.track(() => ({ activeSubscriptions: 3, watchedAssets: 7 }));
    metrics.watcher.observePollCycle(0.2);
    const text = await metrics.registry.metrics();
    for (const line of [
      'graphql_requests_total{operation_type="mutation"} 1',
      'graphql_requests_total{operation_type="unknown"} 1',
      'graphql_errors_total{code="RATE_LIMITED"} 1',
      'graphql_errors_total{code="OTHER"} 1',
      'upstream_calls_total{action="GetAsset",outcome="ok"} 1',
      'upstream_calls_total{action="GetAsset",outcome="UPSTREAM_TIMEOUT"} 1',
      'upstream_request_duration_seconds_bucket{le="0.05",action="GetAsset"} 1',
      'upstream_request_duration_seconds_count{action="GetAsset"} 2',
      'active_subscriptions 3',
      'watched_assets 7',
      'poll_cycle_seconds_count 1',
    ]) {
      expect(text).toContain(line);
    }
  });
});
