import { z } from 'zod';

/**
 * SIP and SIPS URIs as Roomline accepts them from callers: a strict subset of RFC 3261's grammar, parsed rather than
 * matched, so that what reaches Janus (and the INVITE's Request-URI) is exactly what was checked.
 *
 * `sip:` or `sips:`, an optional user part, a host (a DNS name, an IPv4 address or an IPv6 address in brackets), an
 * optional port from 1 to 65535, and only the URI parameters a caller may set (for a dial request: `transport` and
 * `user`). Refused: a password in the user part, URI headers (`?...`), any other parameter (`maddr`, which re-routes
 * the request, `lr`, `method`, `ttl`...), a parameter given twice, control characters anywhere, more than
 * {@link SIP_URI_MAX_LENGTH} characters.
 */

/** Longest accepted URI. */
export const SIP_URI_MAX_LENGTH = 256;
/** Longest accepted user part (before decoding escapes). */
export const SIP_USER_MAX_LENGTH = 128;

/** The URI parameters a dial request's `to` and `from.uri` may carry, and the values each may take. */
export const DIAL_URI_PARAMS = {
  /** How the SIP stack reaches the target. */
  transport: ['udp', 'tcp', 'tls', 'sctp', 'ws', 'wss'],
  /** `phone`: the user part is a telephone number (RFC 3261 19.1.1); `ip`: it is not. */
  user: ['phone', 'ip'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

/** A trunk's proxy may also carry `lr` (loose routing, a flag without a value). */
export const PROXY_URI_PARAMS = { ...DIAL_URI_PARAMS, lr: [''] } as const satisfies Readonly<Record<string, readonly string[]>>;

export type SipUriParams = Readonly<Record<string, readonly string[]>>;

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** The user part as written (escapes kept). */
  readonly user: string | undefined;
  /** The host as written, IPv6 without its brackets. */
  readonly host: string;
  readonly hostKind: 'name' | 'ipv4' | 'ipv6';
  readonly port: number | undefined;
  /** Parameters by lower-case name; a flag has the value "". */
  readonly params: Readonly<Record<string, string>>;
}

export type SipUriParseResult = { readonly ok: true; readonly uri: SipUri } | { readonly ok: false; readonly message: string };

// RFC 3261 "unreserved" plus "+" (telephone numbers); escapes are checked on their own. No "&", "=", "$", ",", ";",
// "?", "/": they start parameters or headers in some stacks and are what injections are made of.
const USER_CHAR = /^[A-Za-z0-9\-_.!~*'()+]$/;
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** Parses a SIP URI, allowing only the parameters in `allowedParams`. */
export function parseSipUri(text: string, allowedParams: SipUriParams = DIAL_URI_PARAMS): SipUriParseResult {
  const fail = (message: string) => ({ ok: false, message }) as const;
  if (text.length > SIP_URI_MAX_LENGTH) return fail(`must be at most ${SIP_URI_MAX_LENGTH} characters`);
  const scheme = text.startsWith('sips:') ? 'sips' : text.startsWith('sip:') ? 'sip' : undefined;
  if (scheme === undefined) return fail('must be a sip: or sips: URI such as sip:alice@example.com (no display name, no <>)');
  if (/[^\u0021-\u007e]/.test(text)) return fail('must be printable ASCII without spaces (escape other characters as %XX)');
  let rest = text.slice(scheme.length + 1);
  if (rest.includes('?')) return fail('must not carry URI headers ("?...")');

  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const problem = checkUser(user);
    if (problem !== undefined) return fail(problem);
  }

  const [hostPort = '', ...paramTexts] = rest.split(';');
  const hostPart = parseHostPort(hostPort);
  if (!hostPart.ok) return fail(hostPart.message);

  const params: Record<string, string> = {};
  for (const paramText of paramTexts) {
    const eq = paramText.indexOf('=');
    const name = (eq < 0 ? paramText : paramText.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : paramText.slice(eq + 1);
    if (name === '' || !TOKEN.test(name)) return fail('has an empty or malformed URI parameter');
    const allowed = allowedParams[name];
    if (allowed === undefined) {
      const names = Object.keys(allowedParams);
      return fail(`must not carry the URI parameter "${name}" (allowed: ${names.length === 0 ? 'none' : names.join(', ')})`);
    }
    if (name in params) return fail(`must not carry the URI parameter "${name}" twice`);
    if (!allowed.includes(value.toLowerCase())) {
      return fail(
        allowed.length === 1 && allowed[0] === ''
          ? `URI parameter "${name}" takes no value`
          : `URI parameter "${name}" must be one of: ${allowed.join(', ')}`,
      );
    }
    params[name] = value.toLowerCase();
  }
  return { ok: true, uri: { scheme, user, ...hostPart.value, params } };
}

function checkUser(user: string): string | undefined {
  if (user.length === 0) return 'has an empty user part before "@"';
  if (user.length > SIP_USER_MAX_LENGTH) return `user part must be at most ${SIP_USER_MAX_LENGTH} characters`;
  if (user.includes(':')) return 'must not carry a password ("user:password@")';
  for (let i = 0; i < user.length; i++) {
    const char = user[i]!;
    if (char === '%') {
      const hex = user.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return 'user part has a "%" that is not an escape such as %20';
      const code = parseInt(hex, 16);
      if (code < 0x20 || code === 0x7f) return 'user part must not escape control characters';
      i += 2;
    } else if (!USER_CHAR.test(char)) {
      return `user part must not contain "${char}" (letters, digits, + - _ . ! ~ * ' ( ) and %XX escapes only)`;
    }
  }
  return undefined;
}

function parseHostPort(
  text: string,
): { ok: true; value: Pick<SipUri, 'host' | 'hostKind' | 'port'> } | { ok: false; message: string } {
  let host: string;
  let portText: string | undefined;
  let hostKind: SipUri['hostKind'];
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { ok: false, message: 'has an IPv6 address without its closing "]"' };
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return { ok: false, message: 'has characters after the IPv6 address' };
    portText = after === '' ? undefined : after.slice(1);
    if (!isIpv6(host)) return { ok: false, message: 'has an invalid IPv6 address' };
    hostKind = 'ipv6';
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
    if (host === '') return { ok: false, message: 'has no host' };
    if (/^[0-9.]+$/.test(host)) {
      if (!isIpv4(host)) return { ok: false, message: 'has an invalid IPv4 address' };
      hostKind = 'ipv4';
    } else {
      const problem = checkHostName(host);
      if (problem !== undefined) return { ok: false, message: problem };
      hostKind = 'name';
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) return { ok: false, message: 'port must be a number from 1 to 65535' };
    port = Number(portText);
    if (port < 1 || port > 65_535) return { ok: false, message: 'port must be a number from 1 to 65535' };
  }
  return { ok: true, value: { host, hostKind, port } };
}

/** A DNS name: labels of letters, digits and inner hyphens, at most 253 characters, not all-numeric at the end. */
export function checkHostName(host: string): string | undefined {
  if (host.length > 253) return 'host name must be at most 253 characters';
  const labels = host.split('.');
  if (!labels.every((label) => HOST_LABEL.test(label))) return 'host must be a DNS name, an IPv4 address or an IPv6 address in []';
  if (/^[0-9]+$/.test(labels.at(-1)!)) return 'host name must not end in an all-numeric label';
  return undefined;
}

/** Dotted-quad IPv4, each part 0-255 without leading zeros. */
export function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address as the URL standard parses it (no zone id). */
export function isIpv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]{2,45}$/.test(text) || !text.includes(':')) return false;
  try {
    return new URL(`http://[${text}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** A zod schema for a SIP URI with the given parameters allowed. */
export function sipUriSchemaWith(allowedParams: SipUriParams) {
  return z
    .string()
    .max(SIP_URI_MAX_LENGTH, `must be at most ${SIP_URI_MAX_LENGTH} characters`)
    .superRefine((text, ctx) => {
      const parsed = parseSipUri(text, allowedParams);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
    });
}
