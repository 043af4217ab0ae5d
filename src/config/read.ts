/**
 * Readers of one environment variable each. A reader is data (the variable, its default as
 * documented, what it accepts, a description) plus `read(env)`, which parses the value or throws a
 * `ConfigError` naming the variable. `fields.ts` declares every variable with one of these, and
 * the README's table and `.env.example` are rendered from the same data (`docs.ts`).
 *
 * Unset and empty (after trim) both mean "not set", unless a reader says otherwise.
 */

/** A variable that cannot be used; the message names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid environment variable ${variable}: ${message}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** One environment variable: how it is documented and how it is read. */
export interface Field<T> {
  /** The variable's name, e.g. `PORT`. */
  readonly env: string;
  /** The default as `.env.example` writes it; `''` when unset (or computed, see `defaultNote`). */
  readonly default: string;
  /** A default computed from other variables, in words, e.g. `true unless NODE_ENV=production`. */
  readonly defaultNote?: string;
  /** What it accepts, for the docs, e.g. `0-65535`. */
  readonly accepts: string;
  /** One sentence for the README table and `.env.example`. */
  readonly doc: string;
  /** Never logged nor echoed in an error message. */
  readonly secret?: boolean;
  /** The value, or the default; throws a `ConfigError` naming `env`. */
  read(env: Env): T;
}

/** What every reader takes besides its own settings. */
interface Spec {
  env: string;
  doc: string;
  secret?: boolean;
}

/** The value with surrounding blanks removed, or `undefined` when unset or blank. */
function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * A bound or default that is a constant, or computed from other variables (`shown` says how, in
 * Markdown, for the docs).
 */
type Derived<T> = T | { readonly shown: string; readonly of: (env: Env) => T };

function resolve<T>(value: Derived<T>, env: Env): T {
  return typeof value === 'object' && value !== null && 'of' in value ? value.of(env) : value;
}

/** A non-negative decimal integer in `[min, max]`. */
export function integer(
  spec: Spec & { default: number; min: number; max: Derived<number> },
): Field<number> {
  return {
    ...spec,
    default: String(spec.default),
    accepts: `${spec.min}-${typeof spec.max === 'object' ? spec.max.shown : spec.max}`,
    read(env) {
      const raw = nonEmpty(env, spec.env);
      if (raw === undefined) return spec.default;
      if (!/^\d+$/.test(raw)) throw new ConfigError(spec.env, `expected an integer, got "${raw}"`);
      const value = Number(raw);
      const max = resolve(spec.max, env);
      if (value < spec.min || value > max) {
        throw new ConfigError(
          spec.env,
          `expected an integer from ${spec.min} to ${max}, got ${raw}`,
        );
      }
      return value;
    },
  };
}

/** `true` or `false`. */
export function bool(spec: Spec & { default: Derived<boolean> }): Field<boolean> {
  return {
    ...spec,
    ...(typeof spec.default === 'object'
      ? { default: '', defaultNote: spec.default.shown }
      : { default: String(spec.default) }),
    accepts: '`true`, `false`',
    read(env) {
      const raw = nonEmpty(env, spec.env);
      if (raw === undefined) return resolve(spec.default, env);
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new ConfigError(spec.env, `expected true or false, got "${raw}"`);
    },
  };
}

/** One of a closed list of words. */
export function oneOf<const T extends string>(
  spec: Spec & { values: readonly T[]; default: NoInfer<T> },
): Field<T> {
  return {
    ...spec,
    accepts: spec.values.map((value) => `\`${value}\``).join(', '),
    read(env) {
      const raw = nonEmpty(env, spec.env);
      if (raw === undefined) return spec.default;
      if (!(spec.values as readonly string[]).includes(raw)) {
        throw new ConfigError(spec.env, `expected one of ${spec.values.join(', ')}, got "${raw}"`);
      }
      return raw as T;
    },
  };
}

/** Any non-blank text, trimmed; `check` may refuse it. */
export function text<D extends string | null>(
  spec: Spec & {
    default: D;
    defaultNote?: string;
    accepts: string;
    check?: (value: string) => string | null;
  },
): Field<string | D> {
  return {
    ...spec,
    default: spec.default ?? '',
    read(env) {
      const raw = nonEmpty(env, spec.env);
      if (raw === undefined) return spec.default;
      const problem = spec.check?.(raw);
      if (problem) throw new ConfigError(spec.env, problem);
      return raw;
    },
  };
}

/**
 * An absolute URL with one of `schemes`, or `null` when unset. The message never echoes the
 * value (it may carry a password); `check` may refuse the parsed URL, `normalise` rewrites it.
 */
export function url(
  spec: Spec & {
    /** The accepted `URL.protocol`s; when omitted, `check` decides. */
    schemes?: readonly string[];
    /** Completes "expected …" in messages, e.g. `an absolute http(s) URL`. */
    expected: string;
    /** For the docs. @default the schemes */
    accepts?: string;
    check?: (url: URL) => string | null;
    normalise?: (raw: string, url: URL) => string;
  },
): Field<string | null> {
  return {
    ...spec,
    default: '',
    accepts: spec.accepts ?? (spec.schemes ?? []).map((scheme) => `\`${scheme}//\``).join(', '),
    read(env) {
      const raw = nonEmpty(env, spec.env);
      if (raw === undefined) return null;
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        throw new ConfigError(spec.env, `expected ${spec.expected}`);
      }
      if (spec.schemes && !spec.schemes.includes(parsed.protocol)) {
        throw new ConfigError(
          spec.env,
          `expected ${spec.expected}, got the scheme "${parsed.protocol}"`,
        );
      }
      const problem = spec.check?.(parsed);
      if (problem) throw new ConfigError(spec.env, problem);
      return spec.normalise ? spec.normalise(raw, parsed) : raw;
    },
  };
}

/**
 * Comma-separated items, blanks dropped, each through `parse` (which may refuse one by throwing a
 * `ConfigError`); a frozen array, empty when unset.
 */
export function list(
  spec: Spec & {
    accepts: string;
    parse?: (item: string, index: number, env: Env) => string;
    /** Drop repeated items (after `parse`). @default false */
    unique?: boolean;
  },
): Field<readonly string[]> {
  return {
    ...spec,
    default: '',
    read(env) {
      const items = splitList(env[spec.env]).map((item, index) =>
        spec.parse ? spec.parse(item, index, env) : item,
      );
      return Object.freeze(spec.unique ? [...new Set(items)] : items);
    },
  };
}

/** Comma-separated, each trimmed, blanks dropped. */
function splitList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * A value taken as given, not trimmed (a credential or key prefix): the default when unset or
 * empty; whitespace anywhere is refused, without echoing the value.
 */
export function verbatim<D extends string | null>(
  spec: Spec & { default: D; accepts: string },
): Field<string | D> {
  return {
    ...spec,
    default: spec.default ?? '',
    read(env) {
      const raw = env[spec.env];
      if (raw === undefined || raw === '') return spec.default;
      if (/\s/.test(raw)) throw new ConfigError(spec.env, 'must not contain whitespace');
      return raw;
    },
  };
}
