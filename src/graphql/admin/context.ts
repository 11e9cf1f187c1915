import type { LimitFunction } from 'p-limit';
import type { AdminOperationLog } from './admin-operation-log.js';
import type { PlatformAdmin } from '../../auth/platform-token.js';
import type { Config } from '../../config.js';
import type { MasterKeys } from '../../control/settings/settings-cipher.js';
import type { Database } from '../../db/database.js';
import type { Template } from '../../migrations/template.js';

export interface AdminContext {
  readonly database: Database;
  /** The platform's own hosts, which no custom domain may be, and where domain verification connects. */
  readonly config: Config;
  /** The tenant template: provisioning, restore and health compare against its head. */
  readonly template: Template;
  /** Set by generic-auth from a verified platform-admin token; a request without one never reaches a resolver. */
  readonly admin: PlatformAdmin;
  /**
   * Runs a usage report when one of this request's few slots is free: a
   * tenant list can ask for hundreds, and each takes pooled connections that
   * tenant traffic shares.
   */
  readonly usageSlot: LimitFunction;
  /** Wrap and unwrap tenants' settings data keys. */
  readonly settingsKeys: MasterKeys;
  /** This server's recent admin operations, for the console. */
  readonly operations: AdminOperationLog;
}
