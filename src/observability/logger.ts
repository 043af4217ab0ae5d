/**
 * The gateway's pino logger, with secrets kept out in two layers: known fields are redacted by
 * path (`authorization`, `credential`, `token`, `h5Link`, ...), and every line is scrubbed of
 * `Bearer <...>` and of the configured secrets (the server key, gateway tokens) wherever they
 * appear, messages and error stacks included.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/index.js';

/** Field names whose values never reach a log line, at the top level or one level down. */
const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'cookie',
  'credential',
  'apiKey',
  'upstreamApiKey',
  'gatewayTokens',
  'token',
  'accessToken',
  'password',
  'secret',
  'h5Link',
  'redisUrl',
];

export const REDACTED = '[Redacted]';

/** pino `redact` paths: each field at the top, one level down, and in headers. */
export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.headers.${field}`),
  'config.jwt',
];

export interface LoggerOptions {
  level: LogLevel;
  /**
   * Values scrubbed from every line wherever they appear (the server's upstream key, gateway
   * tokens). Values under 8 characters are ignored: they would blank out ordinary words.
   * @default []
   */
  secrets?: readonly (string | null)[];
}

const BEARER = /(Bearer)\s+[^\s"\\,;]+/gi;

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Builds the scrubbing function for `hooks.streamWrite`. */
export function createScrubber(secrets: readonly (string | null)[] = []): (line: string) => string {
  const forms = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= 8)
    // The raw value, and the value as JSON escapes it inside a string.
    .flatMap((s) => [s, JSON.stringify(s).slice(1, -1)])
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp);
  const known = forms.length > 0 ? new RegExp([...new Set(forms)].join('|'), 'g') : null;
  return (line) => {
    const unbearer = line.replace(BEARER, `$1 ${REDACTED}`);
    return known ? unbearer.replace(known, REDACTED) : unbearer;
  };
}

/** The logger `src/index.ts` uses; tests pass a destination to capture lines. */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const scrub = createScrubber(options.secrets);
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      hooks: { streamWrite: scrub },
    },
    destination,
  );
}
