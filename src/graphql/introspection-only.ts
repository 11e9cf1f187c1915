import { Kind, parse, type OperationDefinitionNode } from 'graphql';

/**
 * Whether every top-level field is a meta field (__schema, __type,
 * __typename): such an operation reads no tenant data, so it runs without a
 * tenant transaction and is not cached. A fragment counts as data (the safe side).
 */
export function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every((selection) => selection.kind === 'Field' && selection.name.value.startsWith('__'));
}

/**
 * Whether a request's query text asks only for the schema: it parses, and
 * every operation in it is introspection-only. Unparseable text is not.
 */
export function asksOnlyForTheSchema(query: unknown): boolean {
  if (typeof query !== 'string') return false;
  try {
    const operations = parse(query).definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
    return operations.length > 0 && operations.every((operation) => operation.operation === 'query' && isIntrospectionOnly(operation));
  } catch {
    return false;
  }
}
