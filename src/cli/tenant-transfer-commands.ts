import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cloneTenant } from '../control/transfer/tenant-clone.service.js';
import { exportTenant, type ExportOptions } from '../control/transfer/tenant-export.service.js';
import { importTenant, type ImportTarget } from '../control/transfer/tenant-import.service.js';
import type { Database } from '../db/database.js';
import { formatBytes } from '../format-bytes.js';
import type { Template } from '../migrations/template.js';

/** `npm run tenant -- export|import|clone`: run the service, print a summary. */

/**
 * Streams the NDJSON to stdout; the summary goes to stderr, so stdout is only
 * the export. Its size is always in MiB, so summaries compare at a glance.
 */
export async function exportCommand(database: Database, slug: string, options: ExportOptions = {}): Promise<void> {
  const exported = await exportTenant(database, slug, options);
  await pipeline(Readable.from(exported.lines), process.stdout, { end: false });
  const summary = exported.summary!;
  console.error(
    `exported tenant ${exported.tenant.slug} (template version ${summary.templateVersion}): ` +
      `${summary.tables} tables, ${count(summary.rows)} rows, ${summary.sequences} sequences, ${summary.settings} settings, ${formatBytes(summary.bytes, 'MiB')} in ${ms(summary.durationMs)}`,
  );
  if (options.withoutCredentials) {
    console.error(`  without credentials: no password hashes, no refresh or one-time tokens, no secret settings (${summary.secretsLeftOut} left out)`);
  }
  console.error(`  ${perTable(summary.rowCounts)}`);
}

/** Reads `file` (`-` for stdin). */
export async function importCommand(database: Database, template: Template, file: string, target: ImportTarget): Promise<void> {
  const input = file === '-' ? process.stdin : fs.createReadStream(file);
  const imported = await importTenant(database, template, input, target);
  const { tenant } = imported;
  const migrated = imported.fromVersion < tenant.template_version ? `, migrated from template version ${imported.fromVersion}` : '';
  console.log(
    `imported tenant ${tenant.slug} ("${tenant.name}"): ${imported.tables} tables, ${count(imported.rows)} rows, ` +
      `${imported.sequences} sequences, ${imported.settings} settings in ${ms(imported.durationMs)}${migrated}`,
  );
  console.log(`  ${perTable(imported.rowCounts)}`);
  console.log(`  schema ${tenant.schema_name}, template version ${tenant.template_version}, plan ${tenant.plan}, id ${tenant.id}`);
}

export async function cloneCommand(database: Database, template: Template, slug: string, target: ImportTarget): Promise<void> {
  const cloned = await cloneTenant(database, template, slug, target);
  const { tenant } = cloned;
  console.log(
    `cloned tenant ${cloned.source.slug} to ${tenant.slug} ("${tenant.name}"): ${cloned.tables} tables, ${count(cloned.rows)} rows, ` +
      `${cloned.sequences} sequences, ${cloned.settings} settings in ${ms(cloned.durationMs)}`,
  );
  console.log(`  ${perTable(cloned.rowCounts)}`);
  console.log(`  schema ${tenant.schema_name}, template version ${tenant.template_version}, plan ${tenant.plan}, id ${tenant.id}`);
}

function perTable(rowCounts: Readonly<Record<string, number>>): string {
  return Object.entries(rowCounts)
    .map(([table, rows]) => `${table} ${count(rows)}`)
    .join(', ');
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function ms(durationMs: number): string {
  return `${durationMs.toFixed(0)} ms`;
}
