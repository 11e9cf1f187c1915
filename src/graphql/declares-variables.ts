import type { DocumentNode } from 'graphql';

const declared = new WeakMap<DocumentNode, boolean>();

/**
 * Whether any operation of the document declares variables. A document that
 * declares none gives the same answer to every per-request check of its
 * arguments (cost, string limits), so those checks may remember it; Yoga
 * hands repeated queries the same parsed document.
 */
export function declaresVariables(document: DocumentNode): boolean {
  let answer = declared.get(document);
  if (answer === undefined) {
    answer = document.definitions.some((definition) => definition.kind === 'OperationDefinition' && (definition.variableDefinitions?.length ?? 0) > 0);
    declared.set(document, answer);
  }
  return answer;
}
