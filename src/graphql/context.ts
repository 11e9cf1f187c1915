import type { Tenant } from '../db/control-database.js';
import type { TenantDb } from '../tenancy/tenant-transaction.js';

export interface GraphQLContext {
  /** Resolved from the request and the registry before execution starts. */
  readonly tenant: Tenant;
  /** Set by the tenant-transaction plugin for the length of the operation. */
  db: TenantDb;
}
