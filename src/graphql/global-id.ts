import { decodeGlobalID } from '@pothos/plugin-relay';
import { inputError, SchemataError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The row id inside a global ID argument, or a BAD_USER_INPUT error naming the argument. */
export function parseGlobalId(field: string, globalId: string, typename: string): string {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw inputError(field, `is not a valid ${typename} id`);
  }
  if (decoded.typename !== typename) throw inputError(field, `is a ${decoded.typename} id, expected a ${typename} id`);
  if (!UUID.test(decoded.id)) throw inputError(field, `is not a valid ${typename} id`);
  return decoded.id;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Types that implement Node; a global id naming anything else is refused before any loader runs. */
const NODE_TYPES: ReadonlySet<string> = new Set(['User', 'Project', 'Deployment', 'Workflow']);

/**
 * Relay's decoder for `node(id:)`: only our node types, only uuid keys, else
 * BAD_USER_INPUT on `id`. It runs while arguments are parsed, before the
 * field's scopes, so it refuses anonymous callers itself: they learn nothing,
 * not even whether an id is well-formed.
 */
export function decodeNodeId(globalId: string, context: { readonly currentUser: unknown }): { typename: string; id: string } {
  if (!context.currentUser) throw new SchemataError('UNAUTHENTICATED', 'Query.node needs a signed-in user: send "Authorization: Bearer <access token>"');
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw inputError('id', 'is not a valid id');
  }
  if (!NODE_TYPES.has(decoded.typename) || !UUID.test(decoded.id)) throw inputError('id', 'is not a valid id');
  return decoded;
}
