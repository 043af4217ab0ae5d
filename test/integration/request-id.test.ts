/**
 * One request id from the caller to the upstream: the gateway forwards `x-request-id` with every
 * upstream call a GraphQL request makes, so its log line and the upstream's share the id. The
 * embedded simulator is mounted on the gateway's own server, so its request lines show it.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';

const lines: Array<Record<string, unknown>> = [];
let gateway: RunningGateway;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  gateway = await startGateway(loadConfig({ PORT: '0' }), {
    logger: pino({ level: 'info' }, sink),
  });
});

afterAll(() => gateway?.stop());

it('forwards the caller’s x-request-id to every upstream call of the request', async () => {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer request-id-key',
      'x-request-id': 'trace-abc-123',
    },
    body: JSON.stringify({
      query: 'mutation { createGroup(input: { name: "traced" }) { id name } }',
    }),
  });
  expect(response.headers.get('x-request-id')).toBe('trace-abc-123');
  expect(((await response.json()) as any).data.createGroup.name).toBe('traced');

  const traced = lines.filter((line) => line.reqId === 'trace-abc-123' && line.msg === 'request');
  const paths = traced.map((line) => line.path);
  expect(paths).toContain('/graphql');
  // createGroup (①) then reading the group back (③), both under the caller's id.
  expect(paths).toContain('/simulator/v1/private-avatar/groups');
  expect(
    paths.some((path) => String(path).startsWith('/simulator/v1/private-avatar/groups/group-')),
  ).toBe(true);
});
