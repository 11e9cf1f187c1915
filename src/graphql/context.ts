import type { AuthUser } from '../auth/access-token.js';
import type { Plan } from '../control/plans/plan.repository.js';
import type { Tenant } from '../db/control-database.js';
import type { IdentityDeps } from '../data/identity/identity.service.js';
import type { ChangeStream, RowChangeTable } from '../realtime/change-stream.js';
import type { TenantDb } from '../tenancy/tenant-transaction.js';
import type { ChangeLoads } from './change-loads.js';

export interface GraphQLContext {
  /** Resolved from the request and the registry before execution starts. */
  readonly tenant: Tenant;
  /** The tenant's plan, from the process's plan catalog. */
  readonly plan: Plan;
  /** Bytes the tenant stores; measured with `db` (the request's transaction) at most every 30 s per process. */
  storageBytes(db: TenantDb): Promise<number>;
  /** Set by the tenant-transaction plugin for the length of the operation. */
  db: TenantDb;
  /** Where the request came from, as anonymous rate limits and the login throttle count it (src/server/http/client-address.ts). */
  readonly clientAddress: string;
  /** The verified token's user (set by generic-auth), or null for an anonymous request. */
  readonly currentUser: AuthUser | null;
  /** What built-in identity needs: the tenant's signing keys, token settings, throttle and mailer. */
  identity(): Promise<IdentityDeps>;
  /**
   * The tenant's committed changes to `tables`, for a subscription: ends with
   * a coded error when the caller's token expires or the tenant is suspended,
   * deleted or its keys rotate. Events are executed in batches per tenant
   * (src/server/plugins/tenant/use-subscription-events.ts).
   */
  rowChanges(tables: readonly RowChangeTable[]): Promise<ChangeStream>;
  /**
   * Counts one expensive action (a deployment or a workflow created) against
   * the plan's hourly limit of that name; past it, rejects with RATE_LIMITED
   * (429, Retry-After). A plan without the limit counts nothing.
   */
  consumeResource(limit: 'deploymentsPerHour' | 'workflowsPerHour'): Promise<void>;
  /** Gives back what consumeResource counted in this operation: it was rolled back, so nothing was created. */
  refundResources(): Promise<void>;
  /** The tenant's plain (non-secret) settings, read from the control plane; secrets never reach the tenant API. */
  plainSettings(): Promise<readonly { readonly key: string; readonly value: string }[]>;
  /** Set while a batch of subscription events executes: the changed rows, read once for the whole batch. */
  readonly changeLoads?: ChangeLoads;
}
