import type { GraphQLResolveInfo } from 'graphql';
import { featureNotInPlan, planIncludes, quotaExceeded } from '../control/plans/plan.service.js';
import type { PlanFeature } from '../db/control-database.js';
import type { UserRole } from '../db/tenant-database.js';
import { SchemataError } from '../errors.js';
import type { GraphQLContext } from './context.js';

const RANK: Readonly<Record<UserRole, number>> = { viewer: 1, member: 2, admin: 3 };

export interface Scopes {
  readonly viewer: boolean;
  readonly member: boolean;
  readonly admin: boolean;
  /** Whether the tenant's plan includes a feature. */
  readonly feature: (feature: PlanFeature) => boolean;
  /** True while the tenant is within its plan's storage; over it, throws QUOTA_EXCEEDED with the measurement. */
  readonly withinStorage: () => Promise<boolean>;
}

/** The scopes a request holds, from its verified role and its tenant's plan. */
export function authScopesFor(context: GraphQLContext): Scopes {
  const rank = context.currentUser ? RANK[context.currentUser.role] : 0;
  return {
    viewer: rank >= RANK.viewer,
    member: rank >= RANK.member,
    admin: rank >= RANK.admin,
    feature: (feature) => planIncludes(context.plan, feature),
    withinStorage: async () => {
      const max = context.plan.maxStorageBytes;
      if (max === null) return true;
      const current = await context.storageBytes(context.db);
      if (current > max) throw quotaExceeded(context.plan, 'maxStorageBytes', max, current);
      return true;
    },
  };
}

/**
 * Anonymous requests get UNAUTHENTICATED (401); signed-in ones get
 * FEATURE_NOT_IN_PLAN when the tenant's plan lacks the field's feature, and
 * otherwise FORBIDDEN, naming the role needed.
 */
export function unauthorizedError(_parent: unknown, context: GraphQLContext, info: GraphQLResolveInfo, result: { failure: unknown }): Error {
  const field = `${info.parentType.name}.${info.fieldName}`;
  if (!context.currentUser) {
    return new SchemataError('UNAUTHENTICATED', `${field} needs a signed-in user: send "Authorization: Bearer <access token>"`);
  }
  const failed = firstFailure(result.failure);
  if (failed?.scope === 'feature') return featureNotInPlan(context.plan, failed.parameter as PlanFeature);
  const needed = failed?.scope ?? 'a higher';
  return new SchemataError('FORBIDDEN', `${field} needs the ${needed} role; this token has ${context.currentUser.role}`);
}

/** The scope a failure names, with its parameter; $any/$all failures nest the scope one level down. */
function firstFailure(failure: unknown): { scope: string; parameter: unknown } | undefined {
  const node = failure as { kind?: string; scope?: string; parameter?: unknown; failures?: unknown[] };
  if (node.kind === 'AuthScope' && node.scope) return { scope: node.scope, parameter: node.parameter };
  for (const inner of node.failures ?? []) {
    const found = firstFailure(inner);
    if (found) return found;
  }
  return undefined;
}
