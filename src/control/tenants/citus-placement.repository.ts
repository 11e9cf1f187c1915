import { sql, type Kysely } from 'kysely';
import type { ControlDatabase } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { assertTenantSchemaName } from '../../db/identifiers.js';

type Db = Kysely<ControlDatabase>;

/** A Citus node as `host:port`, the form operators type and Citus's functions take apart. */
export type CitusNode = string;

/**
 * The Citus nodes (`host:port`) holding the shards of a tenant schema's
 * tables, from Citus's own metadata on the coordinator (no worker is asked).
 * Undefined when the database is not Citus; empty when the schema is not
 * distributed (created with citus.enable_schema_based_sharding off).
 */
export async function readCitusPlacement(db: Db, engine: Pick<Database, 'citusVersion'>, schemaName: string): Promise<CitusNode[] | undefined> {
  if (engine.citusVersion === undefined) return undefined;
  const schema = assertTenantSchemaName(schemaName);
  const nodes = await sql<{ node: string }>`
    SELECT DISTINCT n.nodename || ':' || n.nodeport AS node
    FROM pg_catalog.pg_dist_partition p
    JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid
    JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
    JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid = p.logicalrelid
    JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
    JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
    WHERE ns.nspname = ${schema}
    ORDER BY node
  `.execute(db);
  return nodes.rows.map((row) => row.node);
}

/** Active primary workers that may hold shards, from pg_dist_node. */
export async function listCitusWorkers(db: Db): Promise<CitusNode[]> {
  const nodes = await sql<{ node: string }>`
    SELECT nodename || ':' || nodeport AS node FROM pg_catalog.pg_dist_node
    WHERE isactive AND noderole = 'primary' AND shouldhaveshards
    ORDER BY node`.execute(db);
  return nodes.rows.map((row) => row.node);
}

/**
 * Citus's own online move of a distributed schema to another node: it copies
 * with logical replication and blocks writes only for the final catch-up.
 * One statement outside any transaction, as citus_schema_move requires.
 */
export async function moveCitusSchema(db: Db, schemaName: string, host: string, port: number): Promise<void> {
  await sql`SELECT pg_catalog.citus_schema_move(${assertTenantSchemaName(schemaName)}::regnamespace, ${host}::text, ${port}::integer)`.execute(db);
}
