import type { GraphQLResolveInfo } from 'graphql';
import type { UserRole } from '../db/tenant-database.js';
import { SchemataError } from '../errors.js';
import type { GraphQLContext } from './context.js';

const RANK: Readonly<Record<UserRole, number>> = { viewer: 1, member: 2, admin: 3 };

/** The scopes a request holds, from its verified role. */
export function authScopesFor(context: GraphQLContext): { viewer: boolean; member: boolean; admin: boolean } {
  const rank = context.currentUser ? RANK[context.currentUser.role] : 0;
  return { viewer: rank >= RANK.viewer, member: rank >= RANK.member, admin: rank >= RANK.admin };
}

/** Anonymous requests get UNAUTHENTICATED (401); signed-in ones with too low a role get FORBIDDEN, naming the role needed. */
export function unauthorizedError(_parent: unknown, context: GraphQLContext, info: GraphQLResolveInfo, result: { failure: unknown }): Error {
  const field = `${info.parentType.name}.${info.fieldName}`;
  if (!context.currentUser) {
    return new SchemataError('UNAUTHENTICATED', `${field} needs a signed-in user: send "Authorization: Bearer <access token>"`);
  }
  const needed = firstScope(result.failure) ?? 'a higher';
  return new SchemataError('FORBIDDEN', `${field} needs the ${needed} role; this token has ${context.currentUser.role}`);
}

/** The scope a failure names; $any/$all failures nest the scope one level down. */
function firstScope(failure: unknown): string | undefined {
  const node = failure as { kind?: string; scope?: string; failures?: unknown[] };
  if (node.kind === 'AuthScope' && node.scope) return node.scope;
  for (const inner of node.failures ?? []) {
    const scope = firstScope(inner);
    if (scope) return scope;
  }
  return undefined;
}
