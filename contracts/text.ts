/** Text patterns shared by the contracts. */

/** Printable text without CR, LF or other control characters: safe to put into a SIP header or a room's name. */
export const HEADER_SAFE_PATTERN = /^[^\u0000-\u001f\u007f]*$/;
