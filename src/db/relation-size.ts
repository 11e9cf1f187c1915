import { sql, type RawBuilder } from 'kysely';
import type { Database } from './database.js';

/**
 * pg_total_relation_size (heap, indexes, TOAST) of the relation whose oid is
 * the column `oidColumn`, counted where its rows are. On a Citus coordinator a
 * distributed table's rows live on the workers and the coordinator holds an
 * empty stub, so its size is citus_total_relation_size (the coordinator asks
 * the workers, as the current role); a table Citus does not distribute is
 * still local.
 */
export function totalRelationSize(engine: Pick<Database, 'citusVersion'>, oidColumn: string): RawBuilder<string> {
  const oid = sql.ref(oidColumn);
  if (engine.citusVersion === undefined) return sql<string>`pg_catalog.pg_total_relation_size(${oid})`;
  return sql<string>`CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = ${oid})
    THEN pg_catalog.citus_total_relation_size(${oid}) ELSE pg_catalog.pg_total_relation_size(${oid}) END`;
}
