import { inputError } from '../errors.js';
import { checkText } from '../text-rule.js';

/** Trimmed text within bounds (tabs and line breaks allowed), or a BAD_USER_INPUT error naming `field`. */
export function boundedText(field: string, value: string, max: number, min = 1): string {
  const checked = checkText(value, { max, min });
  if (checked.problem !== undefined) throw inputError(field, checked.problem);
  return checked.text;
}

export function optionalText(field: string, value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  return boundedText(field, value, max);
}

/** A JSON object small enough to store and echo back. */
export function boundedJsonObject(field: string, value: Record<string, unknown>, maxBytes: number): Record<string, unknown> {
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > maxBytes) throw inputError(field, `must be at most ${maxBytes} bytes of JSON, got ${bytes}`);
  return value;
}

/** Postgres unique-violation and foreign-key-violation, for mapping to CONFLICT and NOT_FOUND. */
export function pgErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
