import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeMasterKey, type Config } from '../../config.js';
import { SchemataError } from '../../errors.js';

/*
 * Envelope encryption for secret settings, on node:crypto's AES-256-GCM.
 * A sealed value is nonce (12 bytes) ‖ tag (16) ‖ ciphertext. A fresh random
 * nonce per seal makes equal values differ in the table; the tag refuses any
 * changed byte; the associated data binds a sealed value to its place (the
 * tenant, and the setting's key), so a ciphertext copied to another row or
 * tenant does not open either.
 */

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export function seal(key: Buffer, plaintext: Buffer, associatedData: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), ciphertext]);
}

/** Throws SETTINGS_TAMPERED when the bytes, the key or the place do not match what was sealed. */
export function open(key: Buffer, sealed: Buffer, associatedData: string, what: string): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw tampered(what);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(sealed.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw tampered(what);
  }
}

function tampered(what: string): SchemataError {
  return new SchemataError('SETTINGS_TAMPERED', `${what} does not decrypt: it was changed or moved since it was written; set it again`);
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Where a data key or a setting is sealed to. */
export const dataKeyPlace = (tenantId: string): string => `schemata:data-key:${tenantId}`;
export const settingPlace = (tenantId: string, key: string): string => `schemata:setting:${tenantId}:${key}`;

export interface MasterKey {
  /** The first 16 hex digits of the key's SHA-256: stored next to what it wrapped, so a wrong key is named, not guessed. */
  readonly id: string;
  readonly key: Buffer;
}

/** The configured master keys: `current` wraps, every one of them unwraps. */
export class MasterKeys {
  private readonly byId: ReadonlyMap<string, MasterKey>;

  constructor(
    readonly current: MasterKey | undefined,
    previous: readonly MasterKey[] = [],
  ) {
    this.byId = new Map([...previous, ...(current ? [current] : [])].map((k) => [k.id, k]));
  }

  static fromKeys(current: Buffer | undefined, previous: readonly Buffer[] = []): MasterKeys {
    return new MasterKeys(current && masterKey(current), previous.map(masterKey));
  }

  /** The key new data keys are wrapped with; without one, secrets cannot be written. */
  wrapping(): MasterKey {
    if (!this.current) {
      throw new SchemataError('SETTINGS_KEY_UNAVAILABLE', 'no settings master key is configured: set SETTINGS_MASTER_KEY or SETTINGS_MASTER_KEY_FILE to store secret settings');
    }
    return this.current;
  }

  unwrapping(id: string): MasterKey {
    const key = this.byId.get(id);
    if (!key) {
      const configured = [...this.byId.keys()];
      throw new SchemataError(
        'SETTINGS_KEY_UNAVAILABLE',
        `the tenant's data key is wrapped by master key ${id}, which this process does not have ` +
          `(${configured.length > 0 ? `configured: ${configured.join(', ')}` : 'none configured'}); ` +
          'configure that key (as SETTINGS_MASTER_KEY or in SETTINGS_PREVIOUS_MASTER_KEYS)',
        { masterKeyId: id },
      );
    }
    return key;
  }

  wrap(tenantId: string, dataKey: Buffer): { masterKeyId: string; wrapped: Buffer } {
    const master = this.wrapping();
    return { masterKeyId: master.id, wrapped: seal(master.key, dataKey, dataKeyPlace(tenantId)) };
  }

  unwrap(tenantId: string, masterKeyId: string, wrapped: Buffer): Buffer {
    return open(this.unwrapping(masterKeyId).key, wrapped, dataKeyPlace(tenantId), "the tenant's data key");
  }
}

/** Opens nothing and wraps nothing: what a caller without configured keys holds. */
export const NO_MASTER_KEYS = new MasterKeys(undefined);

function masterKey(key: Buffer): MasterKey {
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/** Kept beside the embedded cluster, so a first run can store secrets with nothing configured. */
const DEVELOPMENT_KEY_FILE = 'settings-master.key';

/**
 * The master keys `config` names. Outside production with none configured,
 * the key under `dataDir` (made on first use, readable by this user only).
 */
export function loadMasterKeys(config: Config): MasterKeys {
  const previous = config.settingsPreviousMasterKeys.map((text) => decodeMasterKey(text)!);
  let text = config.settingsMasterKey;
  if (text === undefined && config.settingsMasterKeyFile !== undefined) text = readKeyFile(config.settingsMasterKeyFile);
  if (text === undefined && !config.production) text = developmentKey(path.join(config.dataDir, DEVELOPMENT_KEY_FILE));
  if (text === undefined) return MasterKeys.fromKeys(undefined, previous);
  const current = decodeMasterKey(text);
  if (!current) throw new SchemataError('SETTINGS_KEY_UNAVAILABLE', `the settings master key${config.settingsMasterKeyFile ? ` in ${config.settingsMasterKeyFile}` : ''} is not 32 bytes as base64 or hex`);
  return MasterKeys.fromKeys(current, previous);
}

function readKeyFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new SchemataError('SETTINGS_KEY_UNAVAILABLE', `cannot read SETTINGS_MASTER_KEY_FILE ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

function developmentKey(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Written whole under a name of its own, then linked into place: a process
  // starting at the same moment reads either no file or a complete one, and
  // link (unlike rename) refuses to replace a key another process put there first.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(draft, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600 });
  try {
    fs.linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.unlinkSync(draft);
  }
  return fs.readFileSync(file, 'utf8');
}
