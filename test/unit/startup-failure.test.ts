import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { describeStartupFailure } from '../../src/startup-failure.js';

const NAMES = { port: 'SIMULATOR_PORT', host: 'SIMULATOR_HOST' };
const AT = { port: 4020, host: '0.0.0.0' };

/** An error as `net.Server#listen` or `dns.lookup` reports it. */
function systemError(code: string): Error {
  return Object.assign(new Error(`listen ${code}`), { code });
}

describe('describeStartupFailure', () => {
  it('names the variables the caller reads its address from', () => {
    expect(describeStartupFailure(systemError('EADDRINUSE'), NAMES, AT)).toMatch(
      /^SIMULATOR_PORT 4020 is already in use on 0\.0\.0\.0: .* set SIMULATOR_PORT to a free port/,
    );
    expect(describeStartupFailure(systemError('EACCES'), NAMES, AT)).toMatch(
      /^SIMULATOR_PORT 4020 may not be listened on/,
    );
    expect(describeStartupFailure(systemError('EADDRNOTAVAIL'), NAMES, AT)).toMatch(
      /^SIMULATOR_HOST 0\.0\.0\.0 is not an address of this machine: set SIMULATOR_HOST/,
    );
    expect(describeStartupFailure(systemError('EAI_AGAIN'), NAMES, AT)).toMatch(
      /^SIMULATOR_HOST 0\.0\.0\.0 does not resolve/,
    );
  });

  it("passes a config error's message through", () => {
    const error = new ConfigError('PORT', 'expected an integer, got "x"');
    expect(describeStartupFailure(error, NAMES)).toBe(error.message);
  });

  it('leaves anything else to be printed whole, as the bug it is', () => {
    expect(describeStartupFailure(new TypeError('x is undefined'), NAMES, AT)).toBeNull();
    expect(describeStartupFailure(systemError('ECONNRESET'), NAMES, AT)).toBeNull();
    expect(describeStartupFailure(undefined, NAMES, AT)).toBeNull();
  });
});
