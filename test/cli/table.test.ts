import { describe, expect, it } from 'vitest';
import { counted, formatTable } from '../../src/cli/table.js';

describe('tables for people', () => {
  it('aligns columns under upper-case headings, numbers and named columns to the right, with no index column and no trailing blanks', () => {
    const table = formatTable(
      [
        { plan: 'basic', users: 25, storage: '1.00 GiB' },
        { plan: 'enterprise', users: 'unlimited', storage: '100.0 GiB' },
      ],
      { right: ['users', 'storage'] },
    );
    expect(table.split('\n')).toEqual([
      'PLAN             USERS     STORAGE',
      'basic               25    1.00 GiB',
      'enterprise   unlimited   100.0 GiB',
    ]);
    expect(formatTable([{ table: 'users', rows: 3 }, { table: 'deployments', rows: 3000 }]).split('\n')).toEqual([
      'TABLE         ROWS',
      'users            3',
      'deployments   3000',
    ]);
  });

  it('counts with the right noun', () => {
    expect([counted(1, 'tenant'), counted(3, 'tenant'), counted(10_000, 'tenant')]).toEqual(['1 tenant', '3 tenants', '10,000 tenants']);
  });
});
