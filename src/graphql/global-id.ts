import { decodeGlobalID } from '@pothos/plugin-relay';
import { isUuid } from '../db/identifiers.js';
import { inputError, SchemataError } from '../errors.js';

/** Types that implement Node; a global id naming anything else is refused before any loader runs. */
const NODE_TYPES: ReadonlySet<string> = new Set(['User', 'Project', 'Deployment', 'Workflow']);

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
  if (!decoded || !NODE_TYPES.has(decoded.typename)) throw inputError('id', 'is not a valid id');
  return decoded;
}
