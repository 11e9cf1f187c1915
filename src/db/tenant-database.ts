import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export type UserRole = 'viewer' | 'member' | 'admin';
export type DeploymentStatus = 'pending' | 'building' | 'active' | 'failed' | 'archived';
export type WorkflowStatus = 'active' | 'paused' | 'disabled';

export interface UsersTable {
  id: Generated<string>;
  email: string;
  name: string;
  role: ColumnType<UserRole, UserRole | undefined, UserRole>;
  password_hash: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  user_id: string;
  family_id: string;
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

export type OneTimeTokenPurpose = 'invite' | 'password_reset';

export interface OneTimeTokensTable {
  id: Generated<string>;
  user_id: string;
  purpose: OneTimeTokenPurpose;
  token_hash: string;
  created_at: CreatedAt;
  expires_at: Date;
  used_at: Date | null;
}

export interface ProjectsTable {
  id: Generated<string>;
  name: string;
  description: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface DeploymentsTable {
  id: Generated<string>;
  project_id: string;
  status: ColumnType<DeploymentStatus, DeploymentStatus | undefined, DeploymentStatus>;
  environment: ColumnType<string, string | undefined, string>;
  url: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  finished_at: Date | null;
}

export interface WorkflowsTable {
  id: Generated<string>;
  name: string;
  status: ColumnType<WorkflowStatus, WorkflowStatus | undefined, WorkflowStatus>;
  config: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface AuditLogTable {
  id: Generated<string>;
  actor_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
  created_at: CreatedAt;
}

/**
 * Tables of one tenant schema. Names are unqualified on purpose: the
 * per-request transaction puts exactly one tenant schema on search_path.
 */
export interface TenantDatabase {
  users: UsersTable;
  projects: ProjectsTable;
  deployments: DeploymentsTable;
  workflows: WorkflowsTable;
  audit_log: AuditLogTable;
  refresh_tokens: RefreshTokensTable;
  one_time_tokens: OneTimeTokensTable;
}
