import type { OperationDefinitionNode } from 'graphql';

/**
 * Whether every top-level field is a meta field (__schema, __type,
 * __typename): such an operation reads no tenant data, so it runs without a
 * tenant transaction and is not cached. A fragment counts as data (the safe side).
 */
export function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.every((selection) => selection.kind === 'Field' && selection.name.value.startsWith('__'));
}
