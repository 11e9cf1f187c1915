import type { ColumnType, Generated } from 'kysely';
import type { OverrideColumns } from './override-columns.js';
import type { AuditLog, DB, Deployments, OneTimeTokens, Projects, RefreshTokens, Users, Workflows } from './tenant-tables.generated.js';

// The tables come from tenant-tables.generated.ts (`npm run db:types`); this
// file adds only what SQL cannot say. Each value set below is the one list
// behind its SQL CHECK (test/db/value-sets.test.ts compares them), its
// TypeScript type and its GraphQL enum.
export const USER_ROLES = ['viewer', 'member', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const DEPLOYMENT_STATUSES = ['pending', 'building', 'active', 'failed', 'archived'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const WORKFLOW_STATUSES = ['active', 'paused', 'disabled'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

export const ONE_TIME_TOKEN_PURPOSES = ['invite', 'password_reset'] as const;
export type OneTimeTokenPurpose = (typeof ONE_TIME_TOKEN_PURPOSES)[number];

/** Set once by its default; nothing updates it. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** config and details are CHECKed (or written) as objects; pg hands them back parsed. */
type JsonObjectColumn<Update> = ColumnType<Record<string, unknown>, string | undefined, Update>;

export interface UsersTable extends OverrideColumns<Users, { role: Generated<UserRole>; created_at: CreatedAt }> {}

export interface RefreshTokensTable extends OverrideColumns<RefreshTokens, { created_at: CreatedAt }> {}

export interface OneTimeTokensTable extends OverrideColumns<OneTimeTokens, { purpose: OneTimeTokenPurpose; created_at: CreatedAt }> {}

export interface ProjectsTable extends OverrideColumns<Projects, { created_at: CreatedAt }> {}

export interface DeploymentsTable extends OverrideColumns<Deployments, { status: Generated<DeploymentStatus>; created_at: CreatedAt }> {}

export interface WorkflowsTable
  extends OverrideColumns<Workflows, { status: Generated<WorkflowStatus>; config: JsonObjectColumn<string>; created_at: CreatedAt }> {}

/** Audit entries are written once and never changed. */
export interface AuditLogTable extends OverrideColumns<AuditLog, { details: JsonObjectColumn<never>; created_at: CreatedAt }> {}

/**
 * Tables of one tenant schema. Names are unqualified on purpose: the
 * per-request transaction puts exactly one tenant schema on search_path.
 */
export interface TenantDatabase
  extends OverrideColumns<
    DB,
    {
      users: UsersTable;
      projects: ProjectsTable;
      deployments: DeploymentsTable;
      workflows: WorkflowsTable;
      audit_log: AuditLogTable;
      refresh_tokens: RefreshTokensTable;
      one_time_tokens: OneTimeTokensTable;
    }
  > {}
