/**
 * Why a process could not start, as the one line an operator needs: the variable to change and
 * what to do. Shared by the gateway (`index.ts`) and the standalone simulator
 * (`simulator/main.ts`), which name their address variables differently.
 */
import { ConfigError } from './config/index.js';

/** The variables a server's address comes from, e.g. `PORT` and `HOST`. */
export interface AddressVariables {
  port: string;
  host: string;
}

/** The address it tried, once the config was read. */
export interface Address {
  port: number;
  host: string;
}

/**
 * The line for a configuration error or a failure to listen on `address`; `null` for anything
 * else, which is a bug and deserves its stack.
 */
export function describeStartupFailure(
  error: unknown,
  names: AddressVariables,
  address: Address = { port: 0, host: '' },
): string | null {
  if (error instanceof ConfigError) return error.message;
  const port = `${names.port} ${address.port}`;
  const host = `${names.host} ${address.host}`;
  const hostAdvice = `set ${names.host} to one of its addresses, 127.0.0.1 for this machine only or 0.0.0.0 for every interface`;
  switch ((error as { code?: unknown } | null)?.code) {
    // The ledger's (src/ledger/errors.ts): their messages name LEDGER_PATH or DATABASE_URL.
    case 'LEDGER_CONFIG':
    case 'LEDGER_UNAVAILABLE':
      return (error as Error).message;
    case 'EADDRINUSE':
      return `${port} is already in use on ${address.host}: stop the process holding it, or set ${names.port} to a free port (0 picks one)`;
    case 'EACCES':
    case 'EPERM':
      return `${port} may not be listened on by this user (ports below 1024 need privileges): set ${names.port} to 1024 or above, e.g. ${names.port}=4000`;
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
      return `${host} is not an address of this machine: ${hostAdvice}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return `${host} does not resolve to an address of this machine: ${hostAdvice}`;
    default:
      return null;
  }
}

/** Prints the line (or, for a bug, the whole error) to stderr and exits with code 1. */
export function exitOnStartupFailure(
  error: unknown,
  names: AddressVariables,
  address?: Address,
): never {
  console.error(describeStartupFailure(error, names, address) ?? error);
  process.exit(1);
}
