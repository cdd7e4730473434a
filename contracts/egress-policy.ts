import { roomOrigins, type RoomJoin } from './rooms/index.js';
import { checkHostName, isIpv4, isIpv6, parseSipUri } from './sip-uri.js';
import type { InputIssue } from './untrusted-input.js';

/**
 * Where a call may make Roomline connect: the room's servers and the SIP target are chosen by whoever sends a dial
 * request, so each is checked against an allow-list of host patterns before anything connects. The same check runs in
 * the client and the CLI (refusing early) and in the worker (which decides), and the worker's egress proxy applies the
 * room list again to every address a name resolves to.
 *
 * An allow-list is a comma-separated list of entries:
 * - `*`: any DNS name that is not a local or internal one, and any public IP address;
 * - `example.com`: exactly that name; `*.example.com`: any name below it (not the name itself);
 * - `203.0.113.7`, `2001:db8::1` (or `[2001:db8::1]`): that address; `10.0.0.0/8`, `fd00::/8`: any address inside.
 *
 * Addresses that are not public (loopback, private, link-local and so the cloud metadata endpoints, carrier-grade
 * NAT, unique-local, multicast, unspecified, reserved) and local or internal names (`localhost`, single-label names,
 * `.local`, `.internal`, `.localhost`, `.localdomain`, `.home.arpa`, `.arpa`, `.invalid`) pass only when an entry
 * names them: an address or range for addresses, a name or `*.` pattern for names.
 */

/** The default of both allow-lists: public names and addresses only. */
export const DEFAULT_HOST_ALLOW_LIST = '*';

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'shared'
  | 'unique-local'
  | 'multicast'
  | 'unspecified'
  | 'reserved';

const ADDRESS_CLASS_WORDS: Readonly<Record<AddressClass, string>> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address',
  metadata: 'a cloud metadata address',
  shared: 'a carrier-grade NAT address',
  'unique-local': 'a unique-local address',
  multicast: 'a multicast address',
  unspecified: 'the unspecified address',
  reserved: 'a reserved address',
};

/** Names no public service has: `*` does not match them. */
const LOCAL_NAME_SUFFIXES = ['.localhost', '.local', '.internal', '.localdomain', '.home.arpa', '.arpa', '.invalid'];

type Address = { readonly version: 4 | 6; readonly bytes: readonly number[] };

type Entry =
  | { readonly kind: 'any' }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'suffix'; readonly suffix: string }
  | { readonly kind: 'range'; readonly address: Address; readonly bits: number };

/** One allow-list of host patterns. */
export class HostAllowList {
  private constructor(
    private readonly entries: readonly Entry[],
    /** The list as configured, for messages. */
    readonly text: string,
  ) {}

  /** Parses a comma-separated allow-list; throws an Error naming the bad entry. An empty list allows nothing. */
  static parse(text: string): HostAllowList {
    const entries: Entry[] = [];
    for (const raw of text.split(',').map((e) => e.trim().toLowerCase()).filter((e) => e.length > 0)) {
      entries.push(parseEntry(raw));
    }
    return new HostAllowList(entries, entries.length === 0 ? '(empty)' : text.split(',').map((e) => e.trim()).filter((e) => e).join(','));
  }

  /** Why `host` (a DNS name or an IP address, IPv6 with or without brackets) is not allowed; undefined if it is. */
  refusal(host: string): string | undefined {
    const verdict = this.check(host);
    return verdict.allowed ? undefined : verdict.reason;
  }

  /**
   * Whether `host` is allowed, and for a name whether by an entry that names it (`name`, `*.name`) or only by `*`. A
   * name allowed only by `*` is anybody's, so whoever connects must check the addresses it resolves to
   * ({@link addressRefusal}); a name an entry lists is the deployment's own and trusted as resolved.
   */
  check(host: string): { readonly allowed: true; readonly by: 'address' | 'listed-name' | 'any-name' } | { readonly allowed: false; readonly reason: string } {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    const address = parseAddress(bare);
    if (address !== undefined) {
      const reason = this.refuseAddress(address, bare);
      return reason === undefined ? { allowed: true, by: 'address' } : { allowed: false, reason };
    }
    const name = bare.toLowerCase().replace(/\.$/, '');
    if (checkHostName(name) !== undefined) return { allowed: false, reason: `"${host.slice(0, 64)}" is not a host name or an IP address` };
    let any = false;
    for (const entry of this.entries) {
      if (entry.kind === 'name' && entry.name === name) return { allowed: true, by: 'listed-name' };
      if (entry.kind === 'suffix' && name.endsWith(entry.suffix)) return { allowed: true, by: 'listed-name' };
      if (entry.kind === 'any' && !isLocalName(name)) any = true;
    }
    if (any) return { allowed: true, by: 'any-name' };
    return {
      allowed: false,
      reason: isLocalName(name) ? `${name} is a local or internal name, allowed only when listed by name` : `${name} is not on the allow-list`,
    };
  }

  /** Why the IP address `ip` is not allowed; undefined if it is. */
  addressRefusal(ip: string): string | undefined {
    const address = parseAddress(ip);
    return address === undefined ? `"${ip.slice(0, 64)}" is not an IP address` : this.refuseAddress(address, ip);
  }

  private refuseAddress(address: Address, text: string): string | undefined {
    const kind = classifyAddress(address);
    for (const entry of this.entries) {
      if (entry.kind === 'range' && inRange(address, entry.address, entry.bits)) return undefined;
      if (entry.kind === 'any' && kind === 'public') return undefined;
    }
    return kind === 'public'
      ? `${text} is not on the allow-list`
      : `${text} is ${ADDRESS_CLASS_WORDS[kind]}, allowed only when listed as an address or range`;
  }
}

/** The two allow-lists of a deployment. */
export interface EgressPolicy {
  /** Hosts of room servers (every origin a room provider declares for its join data). */
  readonly rooms: HostAllowList;
  /** Hosts a SIP call without a trunk is sent to (the host of `to`); a trunk's proxy is configuration, not checked. */
  readonly sip: HostAllowList;
}

/** Builds a policy from the two allow-list texts (ROOMLINE_ROOM_HOSTS, ROOMLINE_SIP_HOSTS). */
export function egressPolicy(rooms: string = DEFAULT_HOST_ALLOW_LIST, sip: string = DEFAULT_HOST_ALLOW_LIST): EgressPolicy {
  return { rooms: HostAllowList.parse(rooms), sip: HostAllowList.parse(sip) };
}

/** What a (valid) dial request asks to reach that the policy does not allow, as `path: message` problems. */
export function egressIssues(
  request: { readonly to: string; readonly trunk?: string | undefined; readonly room: RoomJoin },
  policy: EgressPolicy,
): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const origin of roomOrigins(request.room)) {
    const host = new URL(origin).hostname;
    const refusal = policy.rooms.refusal(host);
    if (refusal !== undefined) issues.push({ path: ['room'], message: `room server ${origin}: ${refusal} (ROOMLINE_ROOM_HOSTS)` });
  }
  if (request.trunk === undefined) {
    const parsed = parseSipUri(request.to);
    if (parsed.ok) {
      const refusal = policy.sip.refusal(parsed.uri.host);
      if (refusal !== undefined) issues.push({ path: ['to'], message: `SIP destination ${refusal} (ROOMLINE_SIP_HOSTS)` });
    }
  }
  return issues;
}

function parseEntry(raw: string): Entry {
  if (raw === '*') return { kind: 'any' };
  if (raw.startsWith('*.')) {
    const base = raw.slice(2);
    if (checkHostName(base) !== undefined) throw new Error(`"${raw}" is not a valid *.name pattern`);
    return { kind: 'suffix', suffix: `.${base}` };
  }
  const slash = raw.indexOf('/');
  const addressText = (slash < 0 ? raw : raw.slice(0, slash)).replace(/^\[(.*)\]$/, '$1');
  const address = parseAddress(addressText);
  if (address !== undefined) {
    const max = address.version === 4 ? 32 : 128;
    const bits = slash < 0 ? max : Number(raw.slice(slash + 1));
    if (!Number.isInteger(bits) || bits < 0 || bits > max || !/^\d+$/.test(slash < 0 ? String(max) : raw.slice(slash + 1))) {
      throw new Error(`"${raw}" has an invalid prefix length`);
    }
    return { kind: 'range', address, bits };
  }
  if (slash >= 0 || checkHostName(raw) !== undefined) {
    throw new Error(`"${raw}" is neither "*", a host name, "*.name", an IP address nor a CIDR range`);
  }
  return { kind: 'name', name: raw };
}

function isLocalName(name: string): boolean {
  return !name.includes('.') || name === 'localhost' || LOCAL_NAME_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** An IPv4 or IPv6 address as bytes; undefined for anything else. */
function parseAddress(text: string): Address | undefined {
  if (isIpv4(text)) return { version: 4, bytes: text.split('.').map(Number) };
  if (!isIpv6(text)) return undefined;
  // the URL standard's serialiser gives a canonical, compressed form with no embedded IPv4 notation
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head = '', tail = ''] = canonical.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = canonical.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = canonical.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  const bytes = groups.flatMap((g) => {
    const value = parseInt(g, 16);
    return [value >> 8, value & 0xff];
  });
  return bytes.length === 16 ? { version: 6, bytes } : undefined;
}

function inRange(address: Address, base: Address, bits: number): boolean {
  if (address.version !== base.version) return false;
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if (((address.bytes[byte] ?? 0) & mask) !== ((base.bytes[byte] ?? 0) & mask)) return false;
  }
  return true;
}

/** What kind of address this is; IPv4 inside IPv6 (mapped, NAT64) is judged as the IPv4 address it carries. */
export function classifyAddress(address: Address | string): AddressClass {
  const parsed = typeof address === 'string' ? parseAddress(address) : address;
  if (parsed === undefined) return 'reserved';
  const b = parsed.bytes;
  if (parsed.version === 6) {
    const zeros = (n: number) => b.slice(0, n).every((x) => x === 0);
    if (zeros(10) && b[10] === 0xff && b[11] === 0xff) return classifyAddress({ version: 4, bytes: b.slice(12) });
    if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b.slice(4, 12).every((x) => x === 0)) {
      return classifyAddress({ version: 4, bytes: b.slice(12) });
    }
    if (zeros(16)) return 'unspecified';
    if (zeros(15) && b[15] === 1) return 'loopback';
    // fd00:ec2::254, the EC2 instance metadata service over IPv6
    if (b[0] === 0xfd && b[1] === 0x00 && b[2] === 0x0e && b[3] === 0xc2 && b.slice(4, 14).every((x) => x === 0) && b[14] === 0x02 && b[15] === 0x54) {
      return 'metadata';
    }
    if ((b[0]! & 0xfe) === 0xfc) return 'unique-local';
    if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local';
    if (b[0] === 0xff) return 'multicast';
    if ((b[0]! & 0xe0) !== 0x20) return 'reserved'; // only 2000::/3 is global unicast
    if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'reserved'; // documentation
    return 'public';
  }
  const [a = 0, c = 0, d = 0, e = 0] = b;
  // 169.254.169.254: EC2 instance metadata; 169.254.170.2: the ECS task metadata and credentials endpoint
  if (a === 169 && c === 254 && ((d === 169 && e === 254) || (d === 170 && e === 2))) return 'metadata';
  if (a === 0) return 'unspecified';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && c >= 16 && c <= 31) || (a === 192 && c === 168)) return 'private';
  if (a === 169 && c === 254) return 'link-local';
  if (a === 100 && c >= 64 && c <= 127) return 'shared';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240 || (a === 192 && c === 0 && d === 0) || (a === 198 && (c === 18 || c === 19))) return 'reserved';
  return 'public';
}
