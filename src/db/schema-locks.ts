import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { AnyKysely } from './any-kysely.js';
import type { ControlDatabase } from './control-database.js';
import type { Database } from './database.js';
import { assertTenantSchemaName } from './identifiers.js';

// Every advisory lock schemata takes is transaction-level and has two int keys:
// one of these, and hashtext(schema). Keeping them together keeps them distinct.

/** A tenant schema's migration lock: migrators, provisioning, purge and restore (exclusive), export and clone (shared). */
export const LOCK_NAMESPACE = 0x5c4e4a7a;
/** A tenant's user count, held by whoever counts users before adding one. */
const USER_COUNT_LOCK = 0x5c4e5553;
/** A tenant's settings and data key: every writer and every reader of a secret. */
const SETTINGS_LOCK = 0x5c4e5354;

/** Serialises everything that reads or writes tenant `tenantId`'s settings or data key, until the transaction ends. */
export async function lockTenantSettings(db: AnyKysely, tenantId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${SETTINGS_LOCK}, hashtext(${tenantId}))`.execute(db);
}

/** Serialises whoever counts users before adding one in the tenant on `db`'s search_path, until the transaction ends. */
export async function lockUserCount(db: AnyKysely): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${USER_COUNT_LOCK}, hashtext(current_schema()))`.execute(db);
}

/** Serialises every migrator and provisioner that touches `schema`, until the transaction ends. */
export async function lockSchema(trx: AnyKysely, schema: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${schema}))`.execute(trx);
}

/**
 * Takes a shared hold on `schema`'s migration lock (the key lockSchema
 * takes exclusively) until the end of `db`'s transaction. Holders do not
 * block each other; a migrator waits until every holder has let go, and this
 * waits for a migration in progress to commit. Take it in a transaction
 * other than the reading one (see holdSchemaForReading): a REPEATABLE READ
 * snapshot taken before the lock is granted would see a table that a
 * migration then rewrites (ALTER … TYPE, a volatile DEFAULT) as empty.
 */
export async function lockSchemaShared(db: AnyKysely, schema: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock_shared(${LOCK_NAMESPACE}, hashtext(${assertTenantSchemaName(schema)}))`.execute(db);
}

export interface SchemaReadHold {
  /** The pinned connection, for statements Kysely cannot express (BEGIN, streams). */
  readonly client: pg.PoolClient;
  /** Runs any SQL on that connection; only its table types are the control plane's. */
  readonly db: Kysely<ControlDatabase>;
  /** Gives the connection back (closed instead when `broken`) and ends the hold. */
  release(broken?: Error): Promise<void>;
}

/**
 * A shared hold on a tenant schema's migration lock, for export and clone:
 * migrators wait until it is released, and a snapshot taken on `client`
 * afterwards sees no half-migrated table.
 *
 * The hold is a transaction-level lock in a transaction of its own, on a
 * second connection: a session lock taken through a transaction pooler can
 * stay behind on a backend nobody owns (the unlock lands elsewhere), and a
 * transaction lock taken inside the reading transaction would come after its
 * snapshot. So: connection A begins and takes the lock, connection B is the
 * caller's, and releasing commits A.
 */
export async function holdSchemaForReading(database: Database, schema: string): Promise<SchemaReadHold> {
  const holder = await database.pool.connect();
  try {
    // It sits idle for the whole read: a server-wide idle-in-transaction timeout must not end the hold under it.
    await holder.query(`BEGIN; SELECT set_config('idle_in_transaction_session_timeout', '0', true)`);
    await lockSchemaShared(database.bindClient(holder), schema);
  } catch (error) {
    holder.release(error as Error);
    throw error;
  }
  const endHold = async () => {
    // COMMIT ends the lock with the transaction; a holder that cannot commit is closed, which ends it too.
    await holder.query('COMMIT').then(
      () => holder.release(),
      (error: unknown) => holder.release(error as Error),
    );
  };
  let client: pg.PoolClient;
  try {
    client = await database.pool.connect();
  } catch (error) {
    await endHold();
    throw error;
  }
  return {
    client,
    db: database.bindClient(client) as unknown as Kysely<ControlDatabase>,
    async release(broken) {
      client.release(broken);
      await endHold();
    },
  };
}
