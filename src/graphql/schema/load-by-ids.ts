import { SchemataError } from '../../errors.js';

/**
 * Orders loaded rows like the requested ids (DataLoader's contract) and turns
 * each missing one into a typed NOT_FOUND, never a masked 500.
 */
export function notFoundForMissing<Row extends { readonly id: string }>(typename: string, ids: readonly string[], rows: readonly Row[]): (Row | Error)[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? new SchemataError('NOT_FOUND', `no ${typename} with this id`));
}
