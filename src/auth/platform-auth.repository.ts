import type { Kysely } from 'kysely';
import type { ControlDatabase } from '../db/control-database.js';

type Db = Kysely<ControlDatabase>;

/** The secret that signs platform-admin tokens (control migration 0005 creates it). */
export async function findPlatformSecret(db: Db): Promise<string | undefined> {
  const row = await db.selectFrom('control.platform_auth').select('hmac_secret').executeTakeFirst();
  return row?.hmac_secret;
}

export async function setPlatformSecret(db: Db, hmacSecret: string): Promise<void> {
  await db.updateTable('control.platform_auth').set({ hmac_secret: hmacSecret, rotated_at: new Date() }).execute();
}
