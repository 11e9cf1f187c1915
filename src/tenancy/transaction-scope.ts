import { sql } from 'kysely';
import pg from 'pg';
import type { AnyKysely } from '../db/any-kysely.js';
import { assertTenantSchemaName, CONTROL_SCHEMA, quoteIdentifier } from '../db/identifiers.js';

/**
 * What a transaction's statements see and act as. Every setting is
 * transaction-local (`set_config(…, true)`, i.e. SET LOCAL): it ends with
 * the transaction, so it never reaches the next user of a pooled connection
 * or of a transaction pooler's backend. Nothing here issues a session SET.
 *
 * Each caller sets only what is safe for what it does:
 * - **The request transaction** sets both: unqualified names resolve in the
 *   tenant's schema alone (not public, not control), and the tenant role
 *   stops a statement that named another schema anyway.
 * - **A migration** sets `searchPath` only. It runs as the owner: the objects
 *   its files create must belong to the owner, so the schema's default
 *   privileges grant the tenant role DML and nothing more, and the tenant
 *   role has USAGE but no CREATE on its schema. The files name no schema, so
 *   search_path is what puts their objects in the one being migrated (the
 *   control plane's too).
 * - **An export** sets `role` only, after it has read the registry and the
 *   catalog as the owner in the same snapshot. Its SQL names every relation
 *   with its schema, so a search_path would resolve nothing; the role is what
 *   bounds the rows it reads to what the tenant itself can read.
 * - **A clone** sets neither: it writes into another tenant's schema, which
 *   no tenant role may, so it stays the owner and names both schemas.
 */
export interface TransactionScope {
  /** The one schema on search_path: a tenant's, or the control plane's (migrations). */
  readonly searchPath?: string;
  /** The tenant role the statements run as (it has its schema's name). */
  readonly role?: string;
}

/** The request transaction's scope: the tenant's schema alone on search_path, as the tenant's role. */
export function requestScope(schema: string): TransactionScope {
  return { searchPath: schema, role: schema };
}

/** Other transaction-local settings that may travel in the same statement as the scope. */
export type TransactionSetting = 'statement_timeout' | 'idle_in_transaction_session_timeout';

/**
 * The one SELECT that enters `scope`, with `settings` (values in their
 * units, e.g. ms) after it. It has no parameters, so it can follow BEGIN in
 * one simple-protocol round trip; names pass an allowlist and are quoted.
 */
export function scopeStatement(scope: TransactionScope, settings: Partial<Record<TransactionSetting, number>> = {}): string {
  const calls: string[] = [];
  if (scope.searchPath !== undefined) calls.push(setLocal('search_path', quoteIdentifier(assertScopeSchemaName(scope.searchPath))));
  if (scope.role !== undefined) calls.push(setLocal('role', assertTenantSchemaName(scope.role)));
  for (const [name, value] of Object.entries(settings)) if (value !== undefined) calls.push(setLocal(name, String(Math.trunc(value))));
  if (calls.length === 0) throw new Error('an empty transaction scope sets nothing');
  return `SELECT ${calls.join(', ')}`;
}

/** Enters `scope` inside the transaction already open on `on` (a Kysely transaction or a checked-out client). */
export async function enterScope(on: AnyKysely | pg.ClientBase, scope: TransactionScope): Promise<void> {
  const statement = scopeStatement(scope);
  // By shape, not instanceof: a second copy of Kysely (its CommonJS build) is a Kysely too.
  if ('query' in on && typeof on.query === 'function') await on.query(statement);
  else await sql.raw(statement).execute(on as AnyKysely);
}

function setLocal(name: string, value: string): string {
  return `set_config('${name}', ${pg.escapeLiteral(value)}, true)`;
}

/** A schema a scope may put on search_path: a tenant's, by its generated shape, or the control plane's. */
function assertScopeSchemaName(name: string): string {
  return name === CONTROL_SCHEMA ? name : assertTenantSchemaName(name);
}
