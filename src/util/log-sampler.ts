/**
 * One warning line per interval for an event that an attacker can repeat at will (a full
 * server refusing sockets or subscriptions): the first occurrence is logged at once, later ones
 * within `intervalMs` are only counted, and the next line says how many were left out.
 */
export interface WarnLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export function sampledWarn(
  logger: WarnLogger,
  message: string,
  { intervalMs = 10_000, now = Date.now }: { intervalMs?: number; now?: () => number } = {},
): (fields?: Record<string, unknown>) => void {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (fields = {}) => {
    const t = now();
    if (t - last < intervalMs) {
      suppressed++;
      return;
    }
    logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
    last = t;
    suppressed = 0;
  };
}
