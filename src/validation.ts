/**
 * Argument checks run by resolvers before any upstream call. Each check returns the value to
 * use (trimmed where it says so) or throws `BadUserInputError` naming the argument path.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
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

/** C0 and C1 control characters (NUL, CR, LF, ESC, …) and DEL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** Bidirectional embeddings, overrides and isolates, which make text display out of order. */
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;

/** Refuses control and bidi-override characters in free text. */
function checkText(value: string, field: string): void {
  if (CONTROL.test(value)) {
    throw new BadUserInputError(
      `${field} must not contain control characters (such as NUL or line breaks).`,
      field,
    );
  }
  if (BIDI.test(value)) {
    throw new BadUserInputError(
      `${field} must not contain bidirectional override characters (U+202A-U+202E, U+2066-U+2069).`,
      field,
    );
  }
}

/** A group or asset name: trimmed, 1-64 characters, no control or bidi-override characters. */
export function checkName(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new BadUserInputError(`${field} must not be blank.`, field);
  checkText(trimmed, field);
  if ([...trimmed].length > LIMITS.nameMax) {
    throw new BadUserInputError(`${field} must be at most ${LIMITS.nameMax} characters.`, field);
  }
  return trimmed;
}

/**
 * A group description: trimmed, at most 300 characters, no control or bidi-override characters;
 * empty clears it.
 */
export function checkDescription(value: string, field: string): string {
  const trimmed = value.trim();
  checkText(trimmed, field);
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
  checkText(trimmed, field);
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

export interface AssetUrlOptions {
  /**
   * Accept hosts at internal addresses (`ASSET_URLS_ALLOW_INTERNAL`).
   * @default false
   */
  allowInternal?: boolean;
}

/**
 * The file an asset is made from: an absolute public `http(s)` URL, returned normalised (the
 * form that was checked is the form forwarded). Hosts at internal addresses (loopback,
 * link-local such as the cloud metadata service 169.254.169.254, private ranges, `localhost`,
 * and their IPv6 equivalents) are refused unless `allowInternal`: the upstream fetches the URL,
 * and must not be pointed at its own network. Only literal addresses and `localhost` names are
 * recognised: a public name that resolves to an internal address is the fetcher's to refuse.
 */
export function checkAssetUrl(value: string, field: string, options: AssetUrlOptions = {}): string {
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
  if (!options.allowInternal && isInternalHost(url.hostname)) {
    throw new BadUserInputError(
      `${field} must point to a public host, not to a loopback, link-local or private address.`,
      field,
    );
  }
  return url.href;
}

/** Loopback, "this network", private, carrier-grade NAT, link-local, multicast and reserved. */
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv6');
}

/** `hostname` as `URL` gives it: IPv4 normalised (`0x7f.1` is `127.0.0.1`), IPv6 in brackets. */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIPv4(host)) return INTERNAL.check(host, 'ipv4');
  const v6 = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (!isIPv6(v6)) return false;
  // IPv4-mapped and IPv4-compatible forms reach the IPv4 address: `URL` writes them in hex.
  const mapped = /^::(?:ffff:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (mapped) {
    const high = parseInt(mapped[1]!, 16);
    const low = parseInt(mapped[2]!, 16);
    const v4 = [high >> 8, high & 255, low >> 8, low & 255].join('.');
    return INTERNAL.check(v4, 'ipv4');
  }
  return INTERNAL.check(v6, 'ipv6');
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Where the liveness page sends the person afterwards: an absolute `https` URL, or `http` on
 * localhost / 127.0.0.1 / [::1] for development. Returned normalised, as checked.
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
  return url.href;
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

/**
 * `value` trimmed and parsed. Control characters are refused first: `URL` would silently drop
 * tabs and line breaks, and a raw CR/LF forwarded upstream could split a header or a log line.
 */
function parseAbsoluteUrl(value: string, field: string): URL {
  const trimmed = value.trim();
  if (trimmed.length > LIMITS.urlMax) {
    throw new BadUserInputError(`${field} must be at most ${LIMITS.urlMax} characters.`, field);
  }
  if (CONTROL.test(trimmed)) {
    throw new BadUserInputError(
      `${field} must not contain control characters (such as CR or LF).`,
      field,
    );
  }
  try {
    return new URL(trimmed);
  } catch {
    throw new BadUserInputError(`${field} must be an absolute URL.`, field);
  }
}
