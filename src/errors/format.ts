/**
 * Apollo's `formatError`, shared by HTTP and WebSocket: the last stop of every error a client
 * sees, and the one place the unexpected is masked.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { isUpstreamError } from '../upstream/errors.js';
import { isErrorCode } from './codes.js';
import { fromUpstreamError } from './from-upstream.js';
import { GatewayError } from './gateway-error.js';

export const INTERNAL_ERROR_MESSAGE = 'Internal server error.';

export type FormatError = (
  formatted: GraphQLFormattedError,
  error: unknown,
) => GraphQLFormattedError;

/**
 * Passes our errors and Apollo's request errors through, maps an `UpstreamError` (resolvers let
 * them through on purpose) with `fromUpstreamError`, and masks anything else as
 * `INTERNAL_SERVER_ERROR` with a generic message, logging the full error. Every code it answers
 * with goes to `metrics.countError` when given.
 */
export interface FormatErrorOptions {
  /**
   * Drop graphql-js's suggestions ("Did you mean …?") from every message, variable coercion
   * errors included, over HTTP and WebSocket alike: with introspection off they would reveal
   * the schema field by field.
   * @default false
   */
  hideSchemaDetails?: boolean;
}

/** graphql-js's suggestion sentences, e.g. ` Did you mean "name" or "names"?`. */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

export function createFormatError(
  logger: Logger,
  metrics?: { countError(code: string): void },
  options: FormatErrorOptions = {},
): FormatError {
  const masked: FormatError = (formatted, error) => {
    const out = format(formatted, error);
    return options.hideSchemaDetails && out.message.includes('Did you mean')
      ? { ...out, message: out.message.replace(SUGGESTION, '') }
      : out;
  };
  const format: FormatError = (formatted, error) => {
    const original = unwrapResolverError(error);
    if (original instanceof GatewayError) return formatted;
    if (isUpstreamError(original)) {
      const mapped = fromUpstreamError(original);
      return { ...formatted, message: mapped.message, extensions: mapped.extensions };
    }
    const code = formatted.extensions?.['code'];
    // Apollo's request errors (parse, validation, variable coercion, persisted queries, bad
    // HTTP requests) happen before execution: they have no path and carry a known code.
    if (formatted.path === undefined && code !== 'INTERNAL_SERVER_ERROR' && isErrorCode(code)) {
      return formatted;
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error while executing');
    return {
      message: INTERNAL_ERROR_MESSAGE,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
  if (!metrics) return masked;
  return (formatted, error) => {
    const out = masked(formatted, error);
    metrics.countError(String(out.extensions?.['code'] ?? 'INTERNAL_SERVER_ERROR'));
    return out;
  };
}
