/**
 * Reads `.env` from the working folder when there is one, as `.env.example` suggests. Variables
 * already set in the environment win. Node's own loader, called only when the file exists: the
 * `--env-file-if-exists` flag prints a "not found" line on every start without one.
 */
import { existsSync } from 'node:fs';

export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
