import { sql, type Expression, type SqlBool } from 'kysely';

/** `column ILIKE %text%` with the text's own % and _ taken literally. */
export function nameContains(column: string, text: string): Expression<SqlBool> {
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`${sql.ref(column)} ILIKE ${pattern}`;
}

export interface CreatedRange {
  readonly createdAfter?: Date | undefined;
  readonly createdBefore?: Date | undefined;
}
