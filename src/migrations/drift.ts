import type { AppliedMigration } from './ledger.repository.js';
import { acceptsChecksum, type Template } from './template.js';

export interface DriftProblem {
  readonly file: string;
  readonly problem: string;
}

/** What a schema has applied that the template no longer matches. */
export function findDrift(template: Template, applied: readonly AppliedMigration[]): DriftProblem[] {
  const files = new Map(template.migrations.map((m) => [m.name, m]));
  const problems: DriftProblem[] = [];
  for (const row of applied) {
    const file = files.get(row.name);
    if (!file) {
      problems.push({ file: row.name, problem: 'applied, but the file no longer exists in the template' });
    } else if (!acceptsChecksum(file, row.checksum)) {
      problems.push({
        file: row.name,
        problem: `changed since it was applied (checksum ${row.checksum.slice(0, 12)}… applied, ${file.checksum.slice(0, 12)}… now)`,
      });
    }
  }
  return problems;
}
