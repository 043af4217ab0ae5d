/**
 * The ledger's two failures a caller must tell apart:
 * - `LedgerConfigError`: the ledger cannot start as configured (a read-only file, an unwritable
 *   directory, a bad URL); start-up should fail with its message, which names the variable.
 * - `LedgerUnavailableError`: the store cannot answer now (PostgreSQL down, the disk full, a
 *   locked SQLite file). Operations that must write fail with it; reads may retry later; the
 *   store reconnects by itself.
 */

/** Start-up refused: the message names the variable to fix (`LEDGER_PATH`, `DATABASE_URL`). */
export class LedgerConfigError extends Error {
  override readonly name = 'LedgerConfigError';
  readonly code = 'LEDGER_CONFIG';
}

/** The store cannot answer now; the operation did not happen (writes are transactions). */
export class LedgerUnavailableError extends Error {
  override readonly name = 'LedgerUnavailableError';
  readonly code = 'LEDGER_UNAVAILABLE';
}

/** True for `LedgerUnavailableError`, also across module copies. */
export function isLedgerUnavailable(error: unknown): error is LedgerUnavailableError {
  return error instanceof Error && (error as { code?: unknown }).code === 'LEDGER_UNAVAILABLE';
}

/** An error's message, for wrapping it in one of ours. */
export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(messageOf).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}
