import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { loadMasterKeys } from '../src/control/settings/settings-cipher.js';

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('config: mail and metrics', () => {
  it('SMTP_URL must be smtp:// or smtps://, needs MAIL_FROM, and its password is never echoed', () => {
    const problems = problemsOf({ SMTP_URL: 'https://user:hunter2-secret@mail.example', METRICS_PORT: '70000', METRICS_TOKEN: 'short' });
    expect(problems).toEqual([
      'SMTP_URL must be a URL starting with smtp:// or smtps://',
      'MAIL_FROM is required with SMTP_URL, e.g. "Schemata <no-reply@example.com>"',
      'METRICS_TOKEN must be 16 to 200 printable characters without spaces',
      'METRICS_PORT must be an integer from 0 to 65535, got "70000"',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(problemsOf({ SMTP_URL: 'smtps://u:p@mail.example:465', MAIL_FROM: 'not an address' })).toEqual([
      'MAIL_FROM must be an address such as no-reply@example.com or "Name <no-reply@example.com>", got "not an address"',
    ]);
  });

  it('reads SMTP and the metrics listener, with metrics on 127.0.0.1:9464 unless told otherwise', () => {
    const config = loadConfig({ SMTP_URL: 'smtp://mail.example:587', MAIL_FROM: 'Schemata <no-reply@example.com>' });
    expect(config).toMatchObject({ smtpUrl: 'smtp://mail.example:587', mailFrom: 'Schemata <no-reply@example.com>', metricsPort: 9464, metricsHost: '127.0.0.1' });
    expect(loadConfig({ METRICS_PORT: 'off' }).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '9100', METRICS_HOST: '10.0.0.5', METRICS_TOKEN: 'a-long-enough-token' })).toMatchObject({ metricsPort: 9100, metricsHost: '10.0.0.5', metricsToken: 'a-long-enough-token' });
  });

  it('SETTINGS_MASTER_KEY must be 32 bytes as base64 or hex, is never echoed, and a key file or a development key stands in', async () => {
    const short = 'c2hvcnQta2V5LWhlcmU=';
    const problems = problemsOf({ SETTINGS_MASTER_KEY: short, SETTINGS_PREVIOUS_MASTER_KEYS: `${'ab'.repeat(32)},nope` });
    expect(problems).toEqual([
      'SETTINGS_MASTER_KEY must be 32 bytes as base64 or hex (e.g. openssl rand -base64 32)',
      'every SETTINGS_PREVIOUS_MASTER_KEYS entry must be 32 bytes as base64 or hex',
    ]);
    expect(problems.join('\n')).not.toContain(short);
    expect(problemsOf({ SETTINGS_MASTER_KEY: randomBytes(32).toString('base64'), SETTINGS_MASTER_KEY_FILE: '/run/secrets/k' })).toEqual([
      'set SETTINGS_MASTER_KEY or SETTINGS_MASTER_KEY_FILE, not both',
    ]);
    const hex = randomBytes(32).toString('hex');
    expect(loadMasterKeys(loadConfig({ SETTINGS_MASTER_KEY: hex })).current!.key.toString('hex')).toBe(hex);

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'schemata-keys-'));
    const file = path.join(dir, 'master.key');
    const base64 = randomBytes(32).toString('base64url');
    await fs.writeFile(file, `${base64}\n`);
    expect(loadMasterKeys(loadConfig({ SETTINGS_MASTER_KEY_FILE: file })).current!.key.toString('base64url')).toBe(base64);
    await fs.writeFile(file, 'not a key');
    expect(() => loadMasterKeys(loadConfig({ SETTINGS_MASTER_KEY_FILE: file }))).toThrow(expect.objectContaining({ code: 'SETTINGS_KEY_UNAVAILABLE' }));
    expect(() => loadMasterKeys(loadConfig({ SETTINGS_MASTER_KEY_FILE: path.join(dir, 'missing') }))).toThrow(/cannot read SETTINGS_MASTER_KEY_FILE .*ENOENT/);

    // Development with nothing configured: one key made under the data directory, private, and the same on every start.
    const developer = loadConfig({ SCHEMATA_DATA_DIR: dir });
    const first = loadMasterKeys(developer).current!;
    expect(loadMasterKeys(developer).current!.id).toBe(first.id);
    expect((await fs.stat(path.join(dir, 'settings-master.key'))).mode & 0o777).toBe(0o600);
    // Production with nothing configured: no key, so secrets are refused rather than sealed with a key nobody chose.
    expect(loadMasterKeys(loadConfig({ SCHEMATA_DATA_DIR: dir, NODE_ENV: 'production' })).current).toBeUndefined();
    await fs.rm(dir, { recursive: true });
  });
});
