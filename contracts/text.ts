import { z } from 'zod';

/** Text rules shared by the contracts. */

/**
 * Printable text: no C0 or C1 control characters (CR, LF, NUL, TAB...), no DEL, no Unicode line or paragraph
 * separators, no bidirectional overrides (which make a log line or a caller id read differently from what it is).
 * Safe to put into a SIP header value, a room's participant name or a log line.
 */
export const HEADER_SAFE_PATTERN = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$/;

/** A UTF-16 surrogate without its partner: not encodable as UTF-8, so not text any SIP stack or database keeps. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True for text that {@link safeText} accepts (length aside). */
export function isSafeText(text: string): boolean {
  return HEADER_SAFE_PATTERN.test(text) && !LONE_SURROGATE.test(text);
}

/** A string of printable, well-formed text of 1 to `max` characters (0 allowed with `allowEmpty`). */
export function safeText(max: number, options: { allowEmpty?: boolean } = {}) {
  return z
    .string()
    .min(options.allowEmpty === true ? 0 : 1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine(isSafeText, 'must not contain line breaks, control characters or unpaired surrogates');
}

/**
 * `text` as it may appear inside a message: control characters and quotes escaped as JSON does, cut to `max`
 * characters. For echoing caller-supplied names (keys, fields) back in reasons and logs without letting them forge a
 * line or grow a message without bound.
 */
export function quoteForMessage(text: string, max = 40): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
