import type { Kysely } from 'kysely';
import type { ControlDatabase, PlanFeature } from '../../db/control-database.js';
import { SchemataError } from '../../errors.js';
import { formatBytes } from '../../format-bytes.js';
import { findPlan, listPlans, type Plan } from './plan.repository.js';

/** The plan limits a quota check can name, as the Plan fields spell them. */
export type QuotaLimit = 'maxUsers' | 'maxStorageBytes';

/** The plan called `name`, or PLAN_NOT_FOUND (for the admin API and CLI, before a tenant is moved to it). */
export async function requirePlan(db: Kysely<ControlDatabase>, name: string): Promise<Plan> {
  const plan = await findPlan(db, name);
  if (plan) return plan;
  const plans = (await listPlans(db)).map((p) => p.name);
  throw new SchemataError('PLAN_NOT_FOUND', `no plan named "${name}": the plans are ${plans.join(', ')}`, { plan: name, plans });
}

export function planIncludes(plan: Pick<Plan, 'features'>, feature: PlanFeature): boolean {
  return plan.features.includes(feature);
}

/** The field stays in the schema; asking for it on a plan without the feature gets this. */
export function featureNotInPlan(plan: Pick<Plan, 'name'>, feature: PlanFeature): SchemataError {
  return new SchemataError('FEATURE_NOT_IN_PLAN', `${feature} are not in this tenant's plan "${plan.name}": change to a plan that includes ${feature}`, {
    feature,
    plan: plan.name,
  });
}

/** A refusal naming the limit, the plan's maximum and the tenant's current use. */
export function quotaExceeded(plan: Pick<Plan, 'name'>, limit: QuotaLimit, max: number, current: number): SchemataError {
  const message =
    limit === 'maxUsers'
      ? `this tenant has ${current} users and its plan "${plan.name}" allows ${max} (maxUsers): remove a user or change plans`
      : `this tenant stores ${formatBytes(current)} and its plan "${plan.name}" allows ${formatBytes(max)} (maxStorageBytes): ` +
        'writes are refused until it deletes data or changes plans';
  return new SchemataError('QUOTA_EXCEEDED', message, { limit, max, current, plan: plan.name });
}
