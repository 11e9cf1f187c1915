import { performance } from 'node:perf_hooks';
import type { Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { inputError, SchemataError } from '../../errors.js';
import { listCitusWorkers, moveCitusSchema, readCitusPlacement, type CitusNode } from './citus-placement.repository.js';
import { getTenant, tenantLabel } from './tenant.service.js';

export interface CitusMove {
  readonly tenant: Tenant;
  readonly from: readonly CitusNode[];
  readonly to: CitusNode;
  /** False when the tenant was already there: nothing was copied. */
  readonly moved: boolean;
  readonly durationMs: number;
}

const NODE = /^([A-Za-z0-9.-]{1,253}):(\d{1,5})$/;

/**
 * Moves a tenant's schema to another Citus worker with citus_schema_move,
 * while the tenant keeps serving (Citus blocks its writes only for the final
 * catch-up). The registry does not change: every connection goes through the
 * coordinator, which routes by its own metadata.
 */
export async function moveTenantToCitusNode(database: Database, slug: string, node: string): Promise<CitusMove> {
  if (database.citusVersion === undefined) {
    throw new SchemataError('CITUS_REQUIRED', 'moving a tenant between nodes needs a Citus coordinator, and this database has no citus extension');
  }
  const match = NODE.exec(node);
  if (!match || Number(match[2]) > 65535) throw inputError('node', `must be a Citus worker as host:port, e.g. 10.0.0.7:5432, got "${node}"`);
  const tenant = await getTenant(database, slug);
  const workers = await listCitusWorkers(database.control);
  if (!workers.includes(node)) {
    throw new SchemataError('NODE_NOT_FOUND', `${node} is not an active Citus worker that may hold shards; the workers are ${workers.join(', ') || 'none'}`, { node });
  }
  const from = (await readCitusPlacement(database.control, database, tenant.schema_name)) ?? [];
  if (from.length === 0) {
    throw new SchemataError(
      'CONFLICT',
      `${tenantLabel(tenant)} is not a distributed schema (it was created with citus.enable_schema_based_sharding off), so Citus cannot move it`,
    );
  }
  const started = performance.now();
  if (from.length === 1 && from[0] === node) return { tenant, from, to: node, moved: false, durationMs: 0 };
  await moveCitusSchema(database.control, tenant.schema_name, match[1]!, Number(match[2]));
  return { tenant, from, to: node, moved: true, durationMs: performance.now() - started };
}
