import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

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
});
