import { inputError } from '../errors.js';

/** Trimmed text within bounds, or a BAD_USER_INPUT error naming `field`. */
export function boundedText(field: string, value: string, max: number, min = 1): string {
  const text = value.trim();
  if (text.length < min || text.length > max) throw inputError(field, `must be ${min} to ${max} characters long`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) throw inputError(field, 'must not contain control characters');
  return text;
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
