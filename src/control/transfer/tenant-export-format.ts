import type { TenantPlan } from '../../db/control-database.js';
import { SchemataError } from '../../errors.js';
import type { AppliedMigration } from '../../migrations/ledger.repository.js';
import { acceptsChecksum, type Template } from '../../migrations/template.js';
import { isUuid } from '../../db/identifiers.js';
import type { StoredDataKey, StoredSetting } from '../settings/tenant-settings.repository.js';
import { MAX_SETTING_VALUE_BYTES, SETTING_KEY_SHAPE, validateSettingValue } from '../settings/tenant-settings.service.js';
import type { SequenceState } from './tenant-tables.repository.js';

/*
 * The NDJSON export format, one JSON object per line:
 *   header    {"format":"schemata-tenant-export","formatVersion":1,"templateVersion":2,"migrations":[…],"tenant":{…},"exportedAt":"…"}
 *   row       {"table":"users","row":{…}}            rows in foreign-key order, each as Postgres's to_jsonb
 *   sequence  {"sequence":"…","value":"42","isCalled":true}
 *   data key  {"dataKey":{"tenantId":"…","masterKeyId":"…","wrapped":"<base64>"}}   only with secret settings
 *   setting   {"setting":"…","secret":false,"value":"…"} or {"setting":"…","secret":true,"sealed":"<base64>"}
 *   trailer   {"end":"schemata-tenant-export","rowCounts":{"users":25,…},"rows":…,"sequences":…,"settings":…}
 * A secret never appears in clear: it travels sealed under the tenant's data
 * key, which travels wrapped by the master key, so only an installation that
 * holds that master key can import it (and re-seals it under a key of its own).
 * The trailer's counts let an import tell a complete file from a cut one.
 */

const EXPORT_FORMAT = 'schemata-tenant-export';
const EXPORT_FORMAT_VERSION = 1;

export interface ExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly formatVersion: number;
  /** Newest template migration applied to the exported schema; rows fit the schema at this version. */
  readonly templateVersion: number;
  /** The schema's ledger: the template files (and checksums) the rows were written under. */
  readonly migrations: readonly AppliedMigration[];
  readonly tenant: { readonly slug: string; readonly name: string; readonly plan: TenantPlan };
  readonly exportedAt: string;
  /** True when CREDENTIAL_TABLES' rows and CREDENTIAL_COLUMNS were left out; absent in older exports. */
  readonly withoutCredentials?: boolean;
}

/**
 * What an export without credentials leaves out (see 0002_add_identity.sql):
 * refresh and one-time token hashes, and password hashes. Users imported from
 * it have no password and set one with requestPasswordReset. A test fails
 * when the template gains a hash, token, secret or password column not named here.
 */
export const CREDENTIAL_TABLES: readonly string[] = ['refresh_tokens', 'one_time_tokens'];
export const CREDENTIAL_COLUMNS: Readonly<Record<string, readonly string[]>> = { users: ['password_hash'] };

export interface ExportTrailer {
  readonly end: typeof EXPORT_FORMAT;
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly rows: number;
  readonly sequences: number;
  /** Absent in exports made before settings existed. */
  readonly settings?: number;
}

export function headerLine(header: Omit<ExportHeader, 'format' | 'formatVersion'>): string {
  return `${JSON.stringify({ format: EXPORT_FORMAT, formatVersion: EXPORT_FORMAT_VERSION, ...header })}\n`;
}

/** Everything of a row line but the row and the closing brace; the row is Postgres's JSON text, spliced in unparsed. */
export function rowLinePrefix(table: string): string {
  return `{"table":${JSON.stringify(table)},"row":`;
}

export function sequenceLine(name: string, state: SequenceState): string {
  return `${JSON.stringify({ sequence: name, value: state.value, isCalled: state.isCalled })}\n`;
}

export function dataKeyLine(tenantId: string, key: StoredDataKey): string {
  return `${JSON.stringify({ dataKey: { tenantId, masterKeyId: key.masterKeyId, wrapped: key.wrappedKey.toString('base64') } })}\n`;
}

export function settingLine(setting: StoredSetting): string {
  const body = setting.secret ? { sealed: setting.ciphertext!.toString('base64') } : { value: setting.value };
  return `${JSON.stringify({ setting: setting.key, secret: setting.secret, ...body })}\n`;
}

export function trailerLine(trailer: Omit<ExportTrailer, 'end'>): string {
  return `${JSON.stringify({ end: EXPORT_FORMAT, ...trailer })}\n`;
}

export function invalidExport(problem: string, details: Record<string, unknown> = {}): SchemataError {
  return new SchemataError('INVALID_EXPORT', `not a usable schemata tenant export: ${problem}`, details);
}

export function truncatedExport(problem: string): SchemataError {
  return new SchemataError('EXPORT_TRUNCATED', `the export is incomplete (${problem}); export the tenant again`);
}

/** A name from the file, shown in a message: quoted and bounded. */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the first line before any SQL runs: the format, and that this
 * server's template holds exactly the files the export was written under.
 */
export function parseHeader(line: string | undefined, template: Template): ExportHeader {
  if (line === undefined) throw invalidExport('the file is empty');
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    if (line.startsWith(`{"format":"${EXPORT_FORMAT}"`)) throw truncatedExport('the header line is cut off');
    throw invalidExport('the first line is not a schemata export header');
  }
  if (!isObject(value) || value.format !== EXPORT_FORMAT) throw invalidExport('the first line is not a schemata export header');
  if (value.formatVersion !== EXPORT_FORMAT_VERSION) {
    throw invalidExport(`format version ${shown(value.formatVersion)} is not supported (this server reads version ${EXPORT_FORMAT_VERSION})`);
  }
  const { templateVersion, migrations, tenant } = value;
  if (!Number.isInteger(templateVersion) || (templateVersion as number) < 0) throw invalidExport('the header has no valid templateVersion');
  if (!isObject(tenant) || typeof tenant.name !== 'string' || typeof tenant.plan !== 'string' || !/^[a-z][a-z0-9_]{0,62}$/.test(tenant.plan)) {
    throw invalidExport('the header has no valid tenant name and plan');
  }
  if (!Array.isArray(migrations) || !migrations.every((m) => isObject(m) && typeof m.name === 'string' && typeof m.checksum === 'string')) {
    throw invalidExport('the header has no valid list of migrations');
  }
  if ((templateVersion as number) > template.latestVersion) {
    throw new SchemataError(
      'EXPORT_TOO_NEW',
      `the export was made at template version ${templateVersion as number}, but this server's templates end at version ${template.latestVersion}; ` +
        'import it with a server that has the newer templates',
      { templateVersion, latestVersion: template.latestVersion },
    );
  }
  checkSameTemplate(migrations as AppliedMigration[], templateVersion as number, template);
  return value as unknown as ExportHeader;
}

/** The rows fit only a schema built from the very same files (or a text one supersedes, which gives the same catalog), so a renamed or edited file refuses the import. */
function checkSameTemplate(migrations: readonly AppliedMigration[], templateVersion: number, template: Template): void {
  const expected = template.migrations.filter((m) => m.version <= templateVersion);
  const byName = new Map(migrations.map((m) => [m.name, m.checksum]));
  const missing = expected.filter((m) => !byName.has(m.name)).map((m) => m.name);
  const differing = expected.filter((m) => byName.has(m.name) && !acceptsChecksum(m, byName.get(m.name)!)).map((m) => m.name);
  const unknown = migrations.filter((m) => !expected.some((e) => e.name === m.name)).map((m) => m.name);
  const problems = [
    ...(missing.length > 0 ? [`it lacks ${missing.join(', ')}`] : []),
    ...(differing.length > 0 ? [`${differing.join(', ')} differ from this server's files`] : []),
    ...(unknown.length > 0 ? [`this server's template has no ${unknown.map(shown).join(', ')} at or below version ${templateVersion}`] : []),
  ];
  if (problems.length > 0) {
    throw invalidExport(`it was written under other template files than this server's: ${problems.join('; ')}`, { templateVersion });
  }
}

export type ExportLine =
  | { readonly kind: 'row'; readonly table: string; readonly columns: readonly string[] }
  | { readonly kind: 'sequence'; readonly name: string; readonly state: SequenceState }
  | { readonly kind: 'dataKey'; readonly tenantId: string; readonly key: StoredDataKey }
  | { readonly kind: 'setting'; readonly setting: StoredSetting }
  | { readonly kind: 'end'; readonly trailer: ExportTrailer };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** A sealed value is the plaintext (at most MAX_SETTING_VALUE_BYTES) plus a 12-byte nonce and a 16-byte tag, in base64. */
const MAX_SEALED_BASE64 = Math.ceil((MAX_SETTING_VALUE_BYTES + 28) / 3) * 4;

/** Classifies a parsed line after the header; the row's values are left to Postgres. */
export function classifyLine(value: unknown, lineNumber: number): ExportLine {
  if (isObject(value)) {
    if (typeof value.table === 'string' && isObject(value.row)) return { kind: 'row', table: value.table, columns: Object.keys(value.row) };
    if (typeof value.sequence === 'string') {
      if (typeof value.value !== 'string' || !/^-?\d{1,19}$/.test(value.value) || typeof value.isCalled !== 'boolean') {
        throw invalidExport(`line ${lineNumber}: sequence ${shown(value.sequence)} has no valid value`);
      }
      return { kind: 'sequence', name: value.sequence, state: { value: value.value, isCalled: value.isCalled } };
    }
    if (isObject(value.dataKey)) {
      const { tenantId, masterKeyId, wrapped } = value.dataKey;
      if (typeof tenantId !== 'string' || !isUuid(tenantId) || typeof masterKeyId !== 'string' || !/^[0-9a-f]{16}$/.test(masterKeyId) || typeof wrapped !== 'string' || !BASE64.test(wrapped) || wrapped.length > 200) {
        throw invalidExport(`line ${lineNumber}: the settings data key is not valid`);
      }
      return { kind: 'dataKey', tenantId, key: { masterKeyId, wrappedKey: Buffer.from(wrapped, 'base64') } };
    }
    if (typeof value.setting === 'string') {
      const key = value.setting;
      if (!SETTING_KEY_SHAPE.test(key)) throw invalidExport(`line ${lineNumber}: ${shown(key)} is not a valid setting key`);
      if (value.secret === true && typeof value.sealed === 'string' && BASE64.test(value.sealed) && value.sealed.length <= MAX_SEALED_BASE64) {
        return { kind: 'setting', setting: { key, secret: true, value: null, ciphertext: Buffer.from(value.sealed, 'base64'), updatedAt: new Date() } };
      }
      if (value.secret === false && typeof value.value === 'string') {
        try {
          validateSettingValue(value.value);
        } catch (error) {
          throw invalidExport(`line ${lineNumber}: setting ${shown(key)}: ${(error as Error).message}`);
        }
        return { kind: 'setting', setting: { key, secret: false, value: value.value, ciphertext: null, updatedAt: new Date() } };
      }
      throw invalidExport(`line ${lineNumber}: setting ${shown(key)} has neither a valid value nor a sealed secret`);
    }
    if (value.end === EXPORT_FORMAT) {
      const counts = value.rowCounts;
      if (!isObject(counts) || !Object.values(counts).every((n) => Number.isInteger(n) && (n as number) >= 0)) {
        throw invalidExport(`line ${lineNumber}: the end marker has no valid row counts`);
      }
      return { kind: 'end', trailer: value as unknown as ExportTrailer };
    }
  }
  throw invalidExport(`line ${lineNumber} is neither a row, a sequence, a setting nor the end marker`);
}
