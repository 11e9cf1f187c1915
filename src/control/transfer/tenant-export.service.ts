import { performance } from 'node:perf_hooks';
import QueryStream from 'pg-query-stream';
import type { Tenant } from '../../db/control-database.js';
import type { Database } from '../../db/database.js';
import { readLedgers } from '../../migrations/ledger.repository.js';
import { CREDENTIAL_COLUMNS, CREDENTIAL_TABLES, dataKeyLine, headerLine, rowLinePrefix, sequenceLine, settingLine, trailerLine } from './tenant-export-format.js';
import { readSettingsBundle } from '../settings/tenant-settings.service.js';
import { holdSchemaForReading } from '../../db/schema-locks.js';
import { listTenantSequences, listTenantTables, readSequence, rowsAsJsonQuery } from './tenant-tables.repository.js';
import { findTenantById } from '../registry/tenant.repository.js';
import { getTenant, tenantNotFound } from '../tenants/tenant.service.js';
import { enterScope } from '../../tenancy/transaction-scope.js';

export interface ExportSummary {
  readonly templateVersion: number;
  readonly tables: number;
  readonly rows: number;
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly sequences: number;
  readonly settings: number;
  /** Secret settings left out (withoutCredentials). */
  readonly secretsLeftOut: number;
  /** UTF-8 bytes of NDJSON produced. */
  readonly bytes: number;
  /** From the first line pulled to the last. */
  readonly durationMs: number;
}

export interface ExportOptions {
  /**
   * Leaves out password hashes and the refresh and one-time token tables, for
   * an export that may travel where credentials should not; their row counts are 0.
   * Secret settings are left out too (they travel sealed otherwise).
   * @default false
   */
  readonly withoutCredentials?: boolean;
}

export interface TenantExport {
  readonly tenant: Tenant;
  /**
   * The NDJSON text, in chunks of whole lines (about 64 KiB each). Nothing
   * runs until the first chunk is pulled; then one pooled connection holds one
   * REPEATABLE READ READ ONLY transaction, so every table comes from the same
   * snapshot, and a shared hold on the schema's migration lock: a migration
   * in progress is waited for before the snapshot is taken, and none starts
   * until the export ends. The connection (and the hold) go back when the
   * last chunk has been pulled, when reading fails, or when the consumer
   * stops early (`return()`, a `break`, a destroyed `Readable.from(lines)`);
   * a consumer that stops pulling without ending keeps migrations waiting.
   */
  readonly lines: AsyncGenerator<string, void, undefined>;
  /** Set once the last chunk has been produced. */
  readonly summary: ExportSummary | undefined;
}

/** Bigger chunks mean fewer writes to the consumer; rows still never pile up beyond one chunk. */
const CHUNK_CHARS = 64 * 1024;
/** Rows per cursor fetch. */
const FETCH_ROWS = 1000;

/**
 * Opens an export of one tenant. The slug is checked (INVALID_SLUG,
 * TENANT_NOT_FOUND) before this returns, so an HTTP handler can answer an
 * error before it starts a download; the rows stream as `lines` is pulled,
 * e.g. `pipeline(Readable.from(exp.lines), process.stdout)` or
 * `Readable.toWeb(Readable.from(exp.lines))`.
 */
export async function exportTenant(database: Database, slug: string, options: ExportOptions = {}): Promise<TenantExport> {
  const tenant = await getTenant(database, slug);
  let summary: ExportSummary | undefined;
  const lines = exportLines(database, tenant, options.withoutCredentials ?? false, (done) => (summary = done));
  return {
    tenant,
    lines,
    get summary() {
      return summary;
    },
  };
}

async function* exportLines(
  database: Database,
  registered: Tenant,
  withoutCredentials: boolean,
  onDone: (summary: ExportSummary) => void,
): AsyncGenerator<string, void, undefined> {
  const started = performance.now();
  // Held before BEGIN: the snapshot must come after any migration that rewrote a table, or that table reads as empty.
  const hold = await holdSchemaForReading(database, registered.schema_name);
  const { client, db } = hold;
  let inTransaction = false;
  let broken: Error | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    inTransaction = true;
    // Re-read in the snapshot: the tenant may have been purged since exportTenant looked.
    const tenant = await findTenantById(db, registered.id);
    if (!tenant) throw tenantNotFound(registered.slug);
    const schema = tenant.schema_name;
    const ledger = (await readLedgers(db, [schema])).get(schema) ?? [];
    const tables = await listTenantTables(db, schema);
    const sequences = await listTenantSequences(db, schema);
    // Read before the scope below, which leaves no access to the control plane; the same snapshot as the rows.
    const settings = await readSettingsBundle(db, tenant.id);
    const carried = withoutCredentials ? settings.settings.filter((s) => !s.secret) : settings.settings;
    // The rows are read as the tenant's own role: whatever a bug asked for,
    // the export could only ever hold this tenant's data (see TransactionScope).
    await enterScope(client, { role: schema });

    let bytes = 0;
    let chunk = headerLine({
      templateVersion: tenant.template_version,
      migrations: ledger.toSorted((a, b) => a.name.localeCompare(b.name)),
      tenant: { slug: tenant.slug, name: tenant.name, plan: tenant.plan },
      exportedAt: new Date().toISOString(),
      withoutCredentials,
    });
    const rowCounts: Record<string, number> = {};
    let rows = 0;
    for (const table of tables) {
      const prefix = rowLinePrefix(table.name);
      let count = 0;
      if (withoutCredentials && CREDENTIAL_TABLES.includes(table.name)) {
        rowCounts[table.name] = 0;
        continue;
      }
      const query = rowsAsJsonQuery(db, schema, table.name, withoutCredentials ? CREDENTIAL_COLUMNS[table.name] : []);
      const cursor = client.query(new QueryStream(query.sql, [...query.parameters], { batchSize: FETCH_ROWS }));
      for await (const { row } of cursor as AsyncIterable<{ row: string }>) {
        chunk += `${prefix}${row}}\n`;
        count += 1;
        if (chunk.length >= CHUNK_CHARS) {
          bytes += Buffer.byteLength(chunk);
          yield chunk;
          chunk = '';
        }
      }
      rowCounts[table.name] = count;
      rows += count;
    }
    for (const name of sequences) chunk += sequenceLine(name, await readSequence(db, schema, name));
    if (settings.dataKey && carried.some((s) => s.secret)) chunk += dataKeyLine(tenant.id, settings.dataKey);
    for (const setting of carried) chunk += settingLine(setting);
    chunk += trailerLine({ rowCounts, rows, sequences: sequences.length, settings: carried.length });
    bytes += Buffer.byteLength(chunk);
    await client.query('COMMIT');
    inTransaction = false;
    onDone({
      templateVersion: tenant.template_version,
      tables: tables.length,
      rows,
      rowCounts,
      sequences: sequences.length,
      settings: carried.length,
      secretsLeftOut: settings.settings.length - carried.length,
      bytes,
      durationMs: performance.now() - started,
    });
    yield chunk;
  } finally {
    // Also reached when the consumer stops early, at the yield it stopped on.
    if (inTransaction) {
      try {
        await client.query('ROLLBACK');
      } catch (error) {
        broken = error as Error;
      }
    }
    await hold.release(broken);
  }
}
