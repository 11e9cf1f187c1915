import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

// The custom-domain settings of src/config.ts (test/config.test.ts holds the rest).
describe('custom-domain configuration', () => {
  it('reads SERVER_HOSTS as lowercase names and DOMAIN_VERIFICATION_CONNECT_TO as host and port', () => {
    const config = loadConfig({ SERVER_HOSTS: ' LB.internal.example., api.example ', DOMAIN_VERIFICATION_CONNECT_TO: '[::1]:8080' });
    expect(config.serverHosts).toEqual(['lb.internal.example', 'api.example']);
    expect(config.domainVerificationConnectTo).toEqual({ host: '::1', port: 8080 });
    expect(loadConfig({}).domainVerificationConnectTo).toBeUndefined();
  });

  it('reports both mistakes at once', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({ SERVER_HOSTS: 'ok.example,bad host', DOMAIN_VERIFICATION_CONNECT_TO: '127.0.0.1:99999' });
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([
      'SERVER_HOSTS entries must be host names such as schemata.internal.example, got "bad host"',
      'DOMAIN_VERIFICATION_CONNECT_TO must be host:port such as 127.0.0.1:8080, got "127.0.0.1:99999"',
    ]);
  });

  it('refuses DOMAIN_VERIFICATION_CONNECT_TO in production: it would send every ownership check, private addresses allowed, to one place', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({ NODE_ENV: 'production', DOMAIN_VERIFICATION_CONNECT_TO: '127.0.0.1:8080' });
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems).toEqual([
      "DOMAIN_VERIFICATION_CONNECT_TO is for staging and tests, not NODE_ENV=production: it sends every domain's ownership check to one address, and to private ones too",
    ]);
    // Control: production without it, and it outside production, are both fine.
    expect(loadConfig({ NODE_ENV: 'production' }).domainVerificationConnectTo).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'test', DOMAIN_VERIFICATION_CONNECT_TO: '127.0.0.1:8080' }).domainVerificationConnectTo).toEqual({ host: '127.0.0.1', port: 8080 });
  });
});
