import columnify from 'columnify';

/**
 * Rows as aligned columns for a person: no index column, no quotes, numbers
 * (and the columns named in `right`) right-aligned (console.table shows neither people nor pipes what they need;
 * `--json` is for machines).
 */
export function formatTable(rows: readonly Record<string, string | number>[], options: { readonly right?: readonly string[] } = {}): string {
  const first = rows[0];
  if (!first) return '';
  const numeric = Object.keys(first).filter((column) => rows.every((row) => typeof row[column] === 'number'));
  const right = [...numeric, ...(options.right ?? [])];
  const table = columnify(rows as Record<string, unknown>[], {
    columnSplitter: '   ',
    config: Object.fromEntries(right.map((column) => [column, { align: 'right' as const }])),
  });
  // columnify pads the last column too; a pasted table should not carry trailing blanks.
  return table.replace(/ +$/gm, '');
}

/** A count with its noun, singular or plural: `1 tenant`, `3 tenants`. */
export function counted(count: number, noun: string): string {
  return `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
}
