import type { ControlPlaneChanges } from '../../db/control-changes.js';
import type { Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { listPlans, type Plan } from './plan.repository.js';

/**
 * Every plan, cached in this process so the request path reads only memory.
 * There are a handful of rows, so they are loaded together. The plans
 * trigger (control migration 0004) notifies on the registry's channel without
 * a tenant id, which the registry passes on as "forget everything"; a lost
 * LISTEN connection does the same, and while it is down nothing is cached.
 */
export class PlanCatalog {
  private cached: Promise<ReadonlyMap<string, Plan>> | undefined;

  constructor(
    private readonly database: Database,
    private readonly registry: ControlPlaneChanges,
  ) {
    registry.onInvalidate((tenantId) => {
      if (tenantId === undefined) this.cached = undefined;
    });
  }

  async find(name: string): Promise<Plan | undefined> {
    return (await this.plans()).get(name);
  }

  /** The tenant's plan. The foreign key guarantees one; its absence is a bug, not a user error. */
  async forTenant(tenant: Pick<Tenant, 'slug' | 'plan'>): Promise<Plan> {
    const plan = await this.find(tenant.plan);
    if (!plan) throw new Error(`tenant "${tenant.slug}" names plan "${tenant.plan}", which does not exist`);
    return plan;
  }

  private plans(): Promise<ReadonlyMap<string, Plan>> {
    if (this.cached) return this.cached;
    const loading = listPlans(this.database.control).then((plans) => new Map(plans.map((plan) => [plan.name, plan])));
    if (this.registry.synced) {
      this.cached = loading;
      // Cleared only if no invalidation replaced it meanwhile.
      loading.catch(() => this.cached === loading && (this.cached = undefined));
    }
    return loading;
  }
}
