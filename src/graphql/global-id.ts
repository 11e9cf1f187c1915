import { decodeGlobalID } from '@pothos/plugin-relay';
import { inputError } from '../errors.js';

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

/** Relay's decoder for `node(id:)`: only our node types, only uuid keys, else BAD_USER_INPUT on `id`. */
export function decodeNodeId(globalId: string): { typename: string; id: string } {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw inputError('id', 'is not a valid id');
  }
  if (!NODE_TYPES.has(decoded.typename) || !UUID.test(decoded.id)) throw inputError('id', 'is not a valid id');
  return decoded;
}
