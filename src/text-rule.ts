/**
 * The one rule for bounded free text. The tenant API's inputs
 * (data/validation.ts) and tenant display names (control/registry/slug.ts) both
 * use it; they differ only in the error they raise and in `singleLine`.
 */
export interface TextRule {
  readonly max: number;
  /** @default 1 */
  readonly min?: number;
  /**
   * Refuse tabs and line breaks as well: a display name is one line. Free
   * text (a description, a search) may span lines.
   * @default false
   */
  readonly singleLine?: boolean;
}

export type TextCheck = { readonly text: string; readonly problem?: undefined } | { readonly text?: undefined; readonly problem: string };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_LINE_BREAK = /[\u0000-\u001f\u007f]/;

/** The trimmed text, or why it is refused, phrased to follow a field name ("must be 1 to 200 characters long"). */
export function checkText(value: string, rule: TextRule): TextCheck {
  const min = rule.min ?? 1;
  const text = value.trim();
  if (text.length < min || text.length > rule.max) return { problem: `must be ${min} to ${rule.max} characters long` };
  if ((rule.singleLine ? CONTROL_OR_LINE_BREAK : CONTROL).test(text)) return { problem: 'must not contain control characters' };
  return { text };
}
