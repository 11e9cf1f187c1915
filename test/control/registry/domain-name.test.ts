import { describe, expect, it } from 'vitest';
import { isPlatformHost, normalizeDomain, parseHost } from '../../../src/control/registry/domain-name.js';
import { SchemataError } from '../../../src/errors.js';

const refusal = (input: unknown, options?: { port: 'strip' | 'refuse' }) => {
  try {
    normalizeDomain(input, options);
  } catch (error) {
    if (error instanceof SchemataError) return { code: error.code, message: error.message };
  }
  return undefined;
};

describe('custom domain names', () => {
  it('case, a trailing dot and the Unicode or punycode form of a name all normalise to one ASCII host', () => {
    expect(normalizeDomain('Events.Customer.Example.')).toBe('events.customer.example');
    expect(normalizeDomain('  events.customer.example ')).toBe('events.customer.example');
    expect(normalizeDomain('bücher.example')).toBe('xn--bcher-kva.example');
    expect(normalizeDomain('BÜCHER.Example')).toBe('xn--bcher-kva.example');
    expect(normalizeDomain('XN--BCHER-KVA.example')).toBe('xn--bcher-kva.example');
    expect(normalizeDomain('例え.テスト')).toBe('xn--r8jz45g.xn--zckzah');
    // Full-width letters are the same name to IDNA.
    expect(normalizeDomain('ｅｖｅｎｔｓ.customer.example')).toBe('events.customer.example');
  });

  it('a port is refused where an operator names a domain and stripped from a request Host', () => {
    expect(refusal('events.customer.example:443')).toEqual({ code: 'INVALID_DOMAIN', message: 'invalid domain "events.customer.example:443": a domain has no port: leave out ":443"' });
    expect(normalizeDomain('EVENTS.customer.example.:4000', { port: 'strip' })).toBe('events.customer.example');
  });

  it('refuses what is no domain, each time naming the problem with INVALID_DOMAIN', () => {
    const problems = {
      localhost: 'at least two labels',
      '127.0.0.1': 'an IP address is not a domain',
      '0x7f.1': 'an IP address is not a domain',
      '[::1]': 'an IP address is not a domain',
      'xn--zz.example': 'not a valid (internationalised) domain name',
      'a b.example': 'not a valid (internationalised) domain name',
      'ex%41mple.com': 'percent-escapes are not allowed',
      'under_score.example': 'the label "under_score"',
      '-dash.example': 'the label "-dash"',
      '*.example': 'the label "*"',
      'a..example': 'an empty label',
      // The WHATWG host parser takes a name ending in a number for an IPv4 address, and fails it.
      'shop.123': 'not a valid (internationalised) domain name',
      [`${'a'.repeat(64)}.example`]: `the label "${'a'.repeat(64)}"`,
      [`${'abcdefghi.'.repeat(26)}example`]: 'longer than 253 characters',
      '': 'it is empty',
    };
    for (const [input, problem] of Object.entries(problems)) {
      const refused = refusal(input);
      expect(refused?.code, input).toBe('INVALID_DOMAIN');
      expect(refused?.message, input).toContain(problem);
    }
    expect(refusal(42)).toEqual({ code: 'INVALID_DOMAIN', message: 'invalid domain: it must be a string' });
  });

  it('reads a request Host without deciding what it names: IPs apart, names in ASCII', () => {
    expect(parseHost('[::1]:4000', { port: 'strip' })).toEqual({ kind: 'ip' });
    expect(parseHost('10.0.0.1:80', { port: 'strip' })).toEqual({ kind: 'ip' });
    expect(parseHost('My_Tenant.LOCALHOST:4000', { port: 'strip' })).toEqual({ kind: 'name', host: 'my_tenant.localhost' });
    expect(parseHost('bücher.example.', { port: 'strip' })).toEqual({ kind: 'name', host: 'xn--bcher-kva.example' });
    expect(parseHost('xn--zz.example', { port: 'strip' }).kind).toBe('invalid');
  });

  it('the base domain, its subdomains and the server hosts are the platform\'s own', () => {
    const platform = { baseDomain: 'schemata.example', serverHosts: ['lb.internal.example'] };
    expect(isPlatformHost('schemata.example', platform)).toBe(true);
    expect(isPlatformHost('acme.schemata.example', platform)).toBe(true);
    expect(isPlatformHost('lb.internal.example', platform)).toBe(true);
    expect(isPlatformHost('notschemata.example', platform)).toBe(false);
    expect(isPlatformHost('events.customer.example', { baseDomain: '', serverHosts: [] })).toBe(false);
  });
});
