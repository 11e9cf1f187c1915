import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely';

/** `column ILIKE %text%` with the text's own % and _ taken literally. */
export function nameContains(column: string, text: string): Expression<SqlBool> {
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`${sql.ref(column)} ILIKE ${pattern}`;
}

export interface CreatedRange {
  readonly createdAfter?: Date | undefined;
  readonly createdBefore?: Date | undefined;
}

/** Rows created in the range: `createdAfter` inclusive, `createdBefore` exclusive. */
export function createdWithin<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, range: CreatedRange): SelectQueryBuilder<DB, TB, O> {
  let q = query;
  if (range.createdAfter) q = q.where(sql.ref('created_at'), '>=', range.createdAfter);
  if (range.createdBefore) q = q.where(sql.ref('created_at'), '<', range.createdBefore);
  return q;
}
