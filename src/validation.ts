/**
 * Argument checks run by resolvers before any upstream call. Each check returns the value to
 * use (trimmed where it says so) or throws `BadUserInputError` naming the argument path.
 */
import { BadUserInputError } from './errors/gateway-error.js';

export const LIMITS = {
  nameMax: 64,
  descriptionMax: 300,
  idMax: 128,
  tokenMax: 256,
  urlMax: 2048,
  pageSizeMax: 100,
  /** Upstream accepts at most 100 ids in one filter. */
  idsMax: 100,
  batchMax: 20,
} as const;

/** A group or asset name: trimmed, 1-64 characters. */
export function checkName(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new BadUserInputError(`${field} must not be blank.`, field);
  if ([...trimmed].length > LIMITS.nameMax) {
    throw new BadUserInputError(`${field} must be at most ${LIMITS.nameMax} characters.`, field);
  }
  return trimmed;
}

/** A group description: trimmed, at most 300 characters; empty clears it. */
export function checkDescription(value: string, field: string): string {
  const trimmed = value.trim();
  if ([...trimmed].length > LIMITS.descriptionMax) {
    throw new BadUserInputError(
      `${field} must be at most ${LIMITS.descriptionMax} characters.`,
      field,
    );
  }
  return trimmed;
}

/** A fuzzy name filter: trimmed, at most 64 characters; blank means no filter. */
export function checkNameFilter(value: string | null | undefined, field: string) {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if ([...trimmed].length > LIMITS.nameMax) {
    throw new BadUserInputError(`${field} must be at most ${LIMITS.nameMax} characters.`, field);
  }
  return trimmed === '' ? undefined : trimmed;
}

/** A group or asset id: not blank, at most 128 characters. */
export function checkId(value: string, field: string): string {
  if (value.trim() === '') throw new BadUserInputError(`${field} must not be empty.`, field);
  if (value.length > LIMITS.idMax) {
    throw new BadUserInputError(`${field} must be at most ${LIMITS.idMax} characters.`, field);
  }
  return value;
}

/** A list of ids for a filter: 1-100 valid ids, duplicates dropped; absent means no filter. */
export function checkIds(values: readonly string[] | null | undefined, field: string) {
  if (values === null || values === undefined) return undefined;
  if (values.length === 0) throw new BadUserInputError(`${field} must not be empty.`, field);
  if (values.length > LIMITS.idsMax) {
    throw new BadUserInputError(`${field} may list at most ${LIMITS.idsMax} ids.`, field);
  }
  values.forEach((id, i) => checkId(id, `${field}[${i}]`));
  return [...new Set(values)];
}

/** A non-empty list of enum values for a filter; absent or empty means no filter. */
export function checkEnumList<T>(values: readonly T[] | null | undefined): T[] | undefined {
  if (values === null || values === undefined || values.length === 0) return undefined;
  return [...new Set(values)];
}

export function checkPage(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new BadUserInputError(`${field} must be 1 or more.`, field);
  }
  return value;
}

export function checkPageSize(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1 || value > LIMITS.pageSizeMax) {
    throw new BadUserInputError(`${field} must be from 1 to ${LIMITS.pageSizeMax}.`, field);
  }
  return value;
}

/** The size of an `addAssets` batch: 1-20 items. */
export function checkBatch<T>(items: readonly T[], field: string): readonly T[] {
  if (items.length === 0) throw new BadUserInputError(`${field} must not be empty.`, field);
  if (items.length > LIMITS.batchMax) {
    throw new BadUserInputError(
      `${field} may hold at most ${LIMITS.batchMax} assets; split the batch.`,
      field,
    );
  }
  return items;
}

/** The file an asset is made from: an absolute public `http(s)` URL. */
export function checkAssetUrl(value: string, field: string): string {
  const url = parseAbsoluteUrl(value, field);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BadUserInputError(
      `${field} must be an http or https URL, not "${url.protocol}".`,
      field,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new BadUserInputError(`${field} must not contain a user name or password.`, field);
  }
  return value.trim();
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Where the liveness page sends the person afterwards: an absolute `https` URL, or `http` on
 * localhost / 127.0.0.1 / [::1] for development.
 */
export function checkCallbackUrl(value: string, field: string): string {
  const url = parseAbsoluteUrl(value, field);
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new BadUserInputError(
      `${field} must be an https URL (http is allowed only on localhost, 127.0.0.1 or [::1]).`,
      field,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new BadUserInputError(`${field} must not contain a user name or password.`, field);
  }
  return value.trim();
}

/** A verification token: not blank, at most 256 characters. */
export function checkToken(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new BadUserInputError(`${field} must not be empty.`, field);
  if (trimmed.length > LIMITS.tokenMax) {
    throw new BadUserInputError(`${field} must be at most ${LIMITS.tokenMax} characters.`, field);
  }
  return trimmed;
}

function parseAbsoluteUrl(value: string, field: string): URL {
  const trimmed = value.trim();
  if (trimmed.length > LIMITS.urlMax) {
    throw new BadUserInputError(`${field} must be at most ${LIMITS.urlMax} characters.`, field);
  }
  try {
    return new URL(trimmed);
  } catch {
    throw new BadUserInputError(`${field} must be an absolute URL.`, field);
  }
}
