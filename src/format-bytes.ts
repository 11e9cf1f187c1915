/** The binary units formatBytes writes: 1 KiB is 1024 bytes, and is labelled so. */
export type ByteUnit = 'KiB' | 'MiB' | 'GiB' | 'TiB';

const UNITS: readonly ByteUnit[] = ['KiB', 'MiB', 'GiB', 'TiB'];

/**
 * A byte count for people: `512 B`, `40 KiB`, `1.30 MiB`, `23.4 GiB`, in the
 * largest unit it reaches, or in `unit` when given. KiB are whole; larger
 * units get two decimals below 10 and one above.
 */
export function formatBytes(bytes: number, unit?: ByteUnit): string {
  if (unit === undefined && Math.abs(bytes) < 1024) return `${bytes} B`;
  let index = unit === undefined ? 0 : UNITS.indexOf(unit);
  while (unit === undefined && index < UNITS.length - 1 && Math.abs(bytes) >= 1024 ** (index + 2)) index += 1;
  const value = bytes / 1024 ** (index + 1);
  const decimals = index === 0 ? 0 : Math.abs(value) < 10 ? 2 : 1;
  return `${value.toFixed(decimals)} ${UNITS[index]}`;
}
