import { decodeGlobalID } from '@pothos/plugin-relay';
import { isInterfaceType, type GraphQLSchema } from 'graphql';
import { isUuid } from '../db/identifiers.js';
import { inputError, SchemataError } from '../errors.js';

/**
 * Types that implement Node; a global id naming anything else is refused
 * before any loader runs. The builder needs decodeNodeId before any type
 * exists, so the list cannot be read where this file is imported: schema/index.ts
 * hands over the built schema instead, and until it has, every id is refused.
 */
let nodeTypes: ReadonlySet<string> = new Set();

/** Takes the node types from the built schema: the object types implementing `Node`. */
export function registerNodeTypes(schema: GraphQLSchema): void {
  const node = schema.getType('Node');
  nodeTypes = new Set(isInterfaceType(node) ? schema.getImplementations(node).objects.map((type) => type.name) : []);
}

/** The decoded global id when it is well-formed and holds a uuid, else undefined. */
function decodeUuidGlobalId(globalId: string): { typename: string; id: string } | undefined {
  try {
    const decoded = decodeGlobalID(globalId);
    return isUuid(decoded.id) ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/** The row id inside a global ID argument, or a BAD_USER_INPUT error naming the argument. */
export function parseGlobalId(field: string, globalId: string, typename: string): string {
  const decoded = decodeUuidGlobalId(globalId);
  if (!decoded) throw inputError(field, `is not a valid ${typename} id`);
  if (decoded.typename !== typename) throw inputError(field, `is a ${decoded.typename} id, expected a ${typename} id`);
  return decoded.id;
}

/**
 * Relay's decoder for `node(id:)`: only our node types, only uuid keys, else
 * BAD_USER_INPUT on `id`. It runs while arguments are parsed, before the
 * field's scopes, so it refuses anonymous callers itself: they learn nothing,
 * not even whether an id is well-formed.
 */
export function decodeNodeId(globalId: string, context: { readonly currentUser: unknown }): { typename: string; id: string } {
  if (!context.currentUser) throw new SchemataError('UNAUTHENTICATED', 'Query.node needs a signed-in user: send "Authorization: Bearer <access token>"');
  const decoded = decodeUuidGlobalId(globalId);
  if (!decoded || !nodeTypes.has(decoded.typename)) throw inputError('id', 'is not a valid id');
  return decoded;
}
