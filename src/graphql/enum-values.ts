/**
 * Pothos enum values from one `as const` list: each value under its name in
 * capitals (`'password_reset'` is `PASSWORD_RESET`), so the GraphQL enum, the
 * TypeScript union and the SQL CHECK all read the same list.
 */
export function enumValues<const Values extends readonly string[]>(values: Values): { readonly [V in Values[number] as Uppercase<V>]: { readonly value: V } } {
  return Object.fromEntries(values.map((value) => [value.toUpperCase(), { value }])) as { [V in Values[number] as Uppercase<V>]: { value: V } };
}
