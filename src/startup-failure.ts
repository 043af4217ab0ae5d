/**
 * Why a process could not start, as the one line an operator needs: the variable to change and
 * what to do. Shared by the gateway (`index.ts`) and the standalone simulator
 * (`simulator/main.ts`), which name their address variables differently.
 */
import { ConfigError } from './config/index.js';

/** The variables a server's address comes from, and their values. */
export interface AddressSettings {
  port: { env: string; value: number };
  host: { env: string; value: string };
}

/**
 * The line for a configuration error or a failure to listen; `null` for anything else, which
 * is a bug and deserves its stack.
 */
export function describeStartupFailure(
  error: unknown,
  { port, host }: AddressSettings,
): string | null {
  if (error instanceof ConfigError) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `${port.env} ${port.value} is already in use on ${host.value}: stop the process holding it, or set ${port.env} to a free port (0 picks one)`;
    case 'EACCES':
    case 'EPERM':
      return `${port.env} ${port.value} may not be listened on by this user (ports below 1024 need privileges): set ${port.env} to 1024 or above, e.g. ${port.env}=4000`;
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
      return `${host.env} ${host.value} is not an address of this machine: set ${host.env} to one of its addresses, 127.0.0.1 for this machine only or 0.0.0.0 for every interface`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return `${host.env} ${host.value} does not resolve to an address: set ${host.env} to an IP address of this machine, 127.0.0.1 for this machine only or 0.0.0.0 for every interface`;
    default:
      return null;
  }
}
