import type { Kysely } from 'kysely';

/** A Kysely handle whose table types do not matter: it runs template SQL, catalog queries or DDL. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKysely = Kysely<any>;
