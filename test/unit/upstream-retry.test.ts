/**
 * The retry decision as a pure function of the rule, the failure and what earlier attempts may
 * have done, with Ark's rules: what each kind retries, when a create's outcome is unknown, and
 * when a delete that finds nothing is done.
 */
import { describe, expect, it } from 'vitest';
import { RETRY_RULES } from '../../src/upstream/ark/actions.js';
import { UpstreamError, type UpstreamErrorCode } from '../../src/upstream/errors.js';
import {
  decide,
  isOutcomeUnknown,
  withOverrides,
  type AnswerClass,
  type Failure,
} from '../../src/upstream/http/retry.js';

const answered = (
  answer: AnswerClass,
  code: UpstreamErrorCode = 'UPSTREAM_UNAVAILABLE',
): Failure => ({
  type: 'answer',
  answer,
  error: new UpstreamError(code, 'failed'),
});
const lost = (errorCode: string, sent: boolean): Failure => ({
  type: 'lost',
  sent,
  error: Object.assign(new Error(errorCode), { code: errorCode }),
});
const first = { attempt: 1, mayHaveArrived: false };

describe('decide', () => {
  it.each([
    ['read', 'throttled', 'retry'],
    ['read', 'overloaded', 'retry'],
    ['read', 'gateway', 'retry'],
    ['read', 'failed', 'fail'],
    ['read', 'final', 'fail'],
    ['create', 'throttled', 'retry'],
    ['create', 'overloaded', 'fail'],
    ['create', 'gateway', 'fail'],
    ['exchange', 'throttled', 'fail'],
  ] as const)('a %s answered %s: %s', (kind, answer, decision) => {
    expect(decide(RETRY_RULES[kind], answered(answer), first)).toBe(decision);
  });

  it('stops at maxAttempts', () => {
    const rule = RETRY_RULES.read;
    expect(decide(rule, answered('throttled'), { ...first, attempt: rule.maxAttempts })).toBe(
      'fail',
    );
    expect(
      decide(
        withOverrides(RETRY_RULES, { read: { maxAttempts: 1 } }).read,
        answered('gateway'),
        first,
      ),
    ).toBe('fail');
  });

  it('retries a create only if nothing was written; a read also after a reset', () => {
    expect(decide(RETRY_RULES.create, lost('ECONNREFUSED', false), first)).toBe('retry');
    expect(decide(RETRY_RULES.create, lost('ECONNRESET', true), first)).toBe('fail');
    expect(decide(RETRY_RULES.read, lost('ECONNRESET', true), first)).toBe('retry');
    // A timeout after sending is not a lost connection: the upstream may still be working.
    expect(decide(RETRY_RULES.read, lost('UND_ERR_HEADERS_TIMEOUT', true), first)).toBe('fail');
  });

  it('calls a delete done when NOT_FOUND follows an attempt that may have arrived', () => {
    const gone = answered('final', 'NOT_FOUND');
    expect(decide(RETRY_RULES.delete, gone, { attempt: 2, mayHaveArrived: true })).toBe('done');
    expect(decide(RETRY_RULES.delete, gone, { attempt: 2, mayHaveArrived: false })).toBe('fail');
    expect(decide(RETRY_RULES.read, gone, { attempt: 2, mayHaveArrived: true })).toBe('fail');
  });
});

describe('isOutcomeUnknown', () => {
  it('is never set for repeatable calls', () => {
    expect(isOutcomeUnknown(RETRY_RULES.read, 'read', answered('gateway'), true)).toBe(false);
  });

  it.each([
    ['gateway', true],
    ['failed', true],
    ['unreadable', true],
    ['throttled', false],
    ['overloaded', false],
    ['final', false],
  ] as const)('a create answered %s: %s', (answer, unknown) => {
    expect(isOutcomeUnknown(RETRY_RULES.create, 'create', answered(answer), false)).toBe(unknown);
  });

  it('follows whether a lost create may have arrived', () => {
    expect(isOutcomeUnknown(RETRY_RULES.create, 'create', lost('ECONNRESET', true), true)).toBe(
      true,
    );
    expect(isOutcomeUnknown(RETRY_RULES.exchange, 'exchange', undefined, false)).toBe(false);
  });
});
