/**
 * A generated table with some columns retyped, for what SQL cannot say: a
 * CHECK-constrained text column as its union, a jsonb column's shape, a
 * column the database fills that callers must never write. Naming a column
 * the table does not have fails to compile, so a dropped column cannot leave
 * a stale override behind.
 */
export type OverrideColumns<Table, Columns extends { [K in keyof Columns]: K extends keyof Table ? unknown : never }> = Omit<Table, keyof Columns> &
  Columns;
