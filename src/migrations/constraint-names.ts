import type { ConstrType, Constraint, Node } from 'libpg-query';

/** The constraint kinds that own a name in pg_constraint; NOT NULL, DEFAULT, identity and GENERATED are column properties here. */
const NAMED_KINDS: Partial<Record<ConstrType, string>> = {
  CONSTR_PRIMARY: 'PRIMARY KEY',
  CONSTR_UNIQUE: 'UNIQUE',
  CONSTR_FOREIGN: 'FOREIGN KEY',
  CONSTR_CHECK: 'CHECK',
  CONSTR_EXCLUSION: 'EXCLUDE',
};

export interface UnnamedConstraint {
  /** `CHECK`, `UNIQUE`, … as written in SQL. */
  readonly kind: string;
  /** The table (or domain) it is on, and the column when it is a column constraint. */
  readonly on: string;
}

interface Where {
  readonly relation?: string;
  readonly column?: string;
}

/**
 * Every PRIMARY KEY, UNIQUE, FOREIGN KEY, CHECK and EXCLUDE constraint in
 * `tree` that has no `CONSTRAINT name`. It walks the whole tree, so a
 * constraint is found wherever the grammar allows one (CREATE TABLE, its
 * columns, ALTER TABLE … ADD COLUMN / ADD CONSTRAINT, domains), each reported
 * with the table and column it sits on.
 */
export function unnamedConstraints(tree: Node): UnnamedConstraint[] {
  const found: UnnamedConstraint[] = [];
  const walk = (value: unknown, where: Where): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, where);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Constraint') check(inner as Constraint, where);
      walk(inner, enter(key, inner, where));
    }
  };
  const check = (constraint: Constraint, where: Where): void => {
    const kind = constraint.contype && NAMED_KINDS[constraint.contype];
    if (kind === undefined || constraint.conname) return;
    const columns = where.column ? [where.column] : [...names(constraint.keys), ...names(constraint.fk_attrs)];
    const on = where.relation ?? 'an unnamed relation';
    found.push({ kind, on: columns.length === 1 ? `${on}.${columns[0]}` : columns.length > 1 ? `${on} (${columns.join(', ')})` : on });
  };
  walk(tree, {});
  return found;
}

/** The context a node opens for the constraints below it. */
function enter(key: string, node: unknown, where: Where): Where {
  const n = node as Record<string, unknown>;
  switch (key) {
    case 'CreateStmt':
    case 'AlterTableStmt':
      return { relation: (n.relation as { relname?: string } | undefined)?.relname };
    case 'CreateDomainStmt':
      return { relation: names(n.domainname as Node[] | undefined).join('.') };
    case 'AlterDomainStmt':
      return { relation: names(n.typeName as Node[] | undefined).join('.') };
    case 'ColumnDef':
      return { ...where, column: n.colname as string | undefined };
    default:
      return where;
  }
}

function names(list: readonly Node[] | undefined): string[] {
  return (list ?? []).flatMap((item) => ('String' in item && item.String.sval !== undefined ? [item.String.sval] : []));
}
