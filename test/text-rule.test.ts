import { describe, expect, it } from 'vitest';
import { validateTenantName } from '../src/control/registry/slug.js';
import { boundedText } from '../src/data/validation.js';

describe('bounded text', () => {
  it.each([
    ['a tab', 'Acme\tCorp'],
    ['a newline', 'Acme\nCorp'],
    ['a carriage return', 'Acme\rCorp'],
    ['a NUL', 'Acme\u0000Corp'],
    ['DEL', 'Acme\u007fCorp'],
  ])('a tenant name with %s is refused with INVALID_NAME: a display name is one line', (_label, name) => {
    expect(() => validateTenantName(name)).toThrow(expect.objectContaining({ code: 'INVALID_NAME', message: 'invalid tenant name: it must not contain control characters' }));
  });

  it('free text may span lines and hold tabs, but never other control characters', () => {
    expect(boundedText('input.description', ' two\nlines\tand a tab ', 200)).toBe('two\nlines\tand a tab');
    expect(() => boundedText('input.description', 'bell\u0007', 200)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', message: 'input.description: must not contain control characters' }));
  });

  it('both trim first and report the same bounds', () => {
    expect(validateTenantName('  Acme Corp  ')).toBe('Acme Corp');
    expect(() => validateTenantName('   ')).toThrow('invalid tenant name: it must be 1 to 200 characters long');
    expect(() => boundedText('input.name', 'x'.repeat(201), 200)).toThrow('input.name: must be 1 to 200 characters long');
  });
});
