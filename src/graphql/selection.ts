import type { GraphQLResolveInfo, SelectionSetNode } from 'graphql';

/** Whether the current field's own selection asks for `name` (fragments included). */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  return info.fieldNodes.some((node) => node.selectionSet !== undefined && inSelection(node.selectionSet, name, info));
}

function inSelection(selectionSet: SelectionSetNode, name: string, info: GraphQLResolveInfo): boolean {
  return selectionSet.selections.some((selection) => {
    if (selection.kind === 'Field') return selection.name.value === name;
    if (selection.kind === 'InlineFragment') return inSelection(selection.selectionSet, name, info);
    const fragment = info.fragments[selection.name.value];
    return fragment !== undefined && inSelection(fragment.selectionSet, name, info);
  });
}
