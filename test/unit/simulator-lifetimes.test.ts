/**
 * The simulator's lifetimes (issues 15 and 16): the H5 link stops working after `h5LinkTtlMs`
 * while ⑫ still answers for the token's `tokenTtlMs`; idle keys and forgotten tokens go away,
 * so memory is bounded by the keys in use.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../src/simulator/ark-http.js';
import { SimulatorState } from '../../src/simulator/state.js';
import type { CallOptions } from '../../src/upstream/port.js';

const A: CallOptions = { credential: 'key-a' };
const B: CallOptions = { credential: 'key-b' };
const CALLBACK = { callbackUrl: 'https://app.example.com/cb' };
const LINK_MS = 120_000;
const TOKEN_MS = 1_800_000;
const IDLE_MS = 3_600_000;

let clock: number;
let state: SimulatorState;

beforeEach(() => {
  clock = Date.parse('2026-06-01T11:17:15.000Z');
  state = new SimulatorState({
    tokenTtlMs: TOKEN_MS,
    h5LinkTtlMs: LINK_MS,
    idleKeyTtlMs: IDLE_MS,
    now: () => clock,
  });
});

describe('the H5 link and the token live apart', () => {
  it('the link stops working after its TTL; ⑫ still answers until the token expires', async () => {
    const { token } = await state.startVerification(A, CALLBACK);
    clock += LINK_MS - 1;
    expect(() => state.openLink(token)).not.toThrow();
    clock += 1;
    expect(() => state.openLink(token)).toThrow(
      expect.objectContaining({ code: 'VERIFICATION_EXPIRED' }),
    );
    expect(() => state.completeLiveness(token, 'pass')).toThrow(
      expect.objectContaining({ code: 'VERIFICATION_EXPIRED' }),
    );
    // The token is still good: ⑫ says the person has not finished, not that it expired.
    expect(await state.completeVerification(A, token)).toEqual({ status: 'PENDING' });
    clock += TOKEN_MS - LINK_MS;
    await expect(state.completeVerification(A, token)).rejects.toMatchObject({
      code: 'VERIFICATION_EXPIRED',
    });
  });

  it('a check done while the link worked is redeemed long after the link expired', async () => {
    const { token } = await state.startVerification(A, CALLBACK);
    clock += 60_000;
    state.completeLiveness(token, 'pass');
    clock += 20 * 60_000;
    expect(await state.completeVerification(A, token)).toMatchObject({ status: 'VERIFIED' });
  });

  it('the link never outlives the token', () => {
    const short = new SimulatorState({ tokenTtlMs: 30_000, h5LinkTtlMs: LINK_MS });
    expect(short.h5LinkTtlMs).toBe(30_000);
  });

  it('defaults: a 120 s link, a 30-minute token', () => {
    const defaults = new SimulatorState();
    expect(defaults.h5LinkTtlMs).toBe(120_000);
    expect(defaults.tokenTtlMs).toBe(1_800_000);
  });
});

describe('the H5 page over HTTP', () => {
  let sim: RunningSimulator;
  afterEach(() => sim.stop());

  it('serves the check while the link works, and 410 once it expired', async () => {
    sim = await startSimulator(state);
    const { token } = await state.startVerification(A, CALLBACK);
    const open = () => fetch(`${sim.url}/h5/verify?token=${token}`);
    const working = await open();
    expect(working.status).toBe(200);
    expect(await working.text()).toContain('id="pass"');
    clock += LINK_MS;
    const expired = await open();
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('expired');
  });
});

describe('bounded memory', () => {
  it('forgets a key idle for idleKeyTtlMs, with its data; an active key stays', async () => {
    const { id } = await state.createGroup(A, { name: 'mine' });
    await state.createGroup(B, { name: 'theirs' });
    await state.startVerification(A, CALLBACK);
    expect(state.stats()).toEqual({ keys: 2, tokens: 1 });
    clock += IDLE_MS / 2;
    await state.listGroups(B, { page: 1, pageSize: 10 });
    clock += IDLE_MS / 2;
    // B's call sweeps: A has been idle for the whole TTL, B for half of it.
    await state.listGroups(B, { page: 1, pageSize: 10 });
    expect(state.stats()).toEqual({ keys: 1, tokens: 0 });
    await expect(state.getGroup(A, id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await state.listGroups(B, { page: 1, pageSize: 10 })).total).toBe(1);
  });

  it('drops tokens one TTL past their expiry: ⑫ says EXPIRED, later NOT_FOUND', async () => {
    const { token } = await state.startVerification(A, CALLBACK);
    clock += TOKEN_MS;
    await expect(state.completeVerification(A, token)).rejects.toMatchObject({
      code: 'VERIFICATION_EXPIRED',
    });
    clock += TOKEN_MS;
    await expect(state.completeVerification(A, token)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(state.stats()).toEqual({ keys: 1, tokens: 0 });
  });

  it('stays bounded under many short-lived keys', async () => {
    for (let i = 0; i < 1_000; i++) {
      await state.createGroup({ credential: `key-${i}` }, { name: 'g' });
      await state.startVerification({ credential: `key-${i}` }, CALLBACK);
      clock += 10_000;
    }
    // 10 s apart: only the keys of the last idle TTL (and a sweep interval) can be held.
    const { keys, tokens } = state.stats();
    expect(keys).toBeLessThanOrEqual(IDLE_MS / 10_000 + 60_000 / 10_000 + 1);
    expect(tokens).toBeLessThanOrEqual(keys);
  });
});
