import { GraphQLScalarType } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';

/**
 * `DateTime`: graphql-scalars' RFC 3339 scalar in its ISO flavour (serialised as a UTC string,
 * not a `Date`), under the name our contract uses.
 */
export const DateTimeScalar = new GraphQLScalarType({
  ...GraphQLDateTimeISO.toConfig(),
  name: 'DateTime',
  description:
    'A date-time at UTC as an RFC 3339 / ISO 8601 string, such as `2026-06-01T19:17:15.000Z`.',
});
