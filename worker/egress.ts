import { lookup as dnsLookup } from 'node:dns/promises';
import type { DialRequest } from '../contracts/dial-request.js';
import { egressIssues, type EgressPolicy, type HostAllowList } from '../contracts/egress-policy.js';
import { parseSipUri } from '../contracts/sip-uri.js';
import { summariseIssues, type InputIssue } from '../contracts/untrusted-input.js';

/**
 * The worker's egress check of a dial request, before the call is claimed: the allow-lists (contracts/egress-policy.ts)
 * and, for a SIP target named only by `*`, the addresses its name resolves to now. (Room servers' names are resolved
 * and checked again by the egress proxy at the moment the bot page connects; the SIP target is reached by Janus, so
 * this lookup is the check there is.)
 */
export type AddressLookup = (host: string) => Promise<readonly string[]>;

const systemLookup: AddressLookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Why this request may not be placed, as a `path: message` reason; undefined when it may. */
export async function refusedDestinations(
  request: Pick<DialRequest, 'to' | 'trunk' | 'room'>,
  policy: EgressPolicy,
  lookup: AddressLookup = systemLookup,
): Promise<string | undefined> {
  const issues: InputIssue[] = egressIssues(request, policy);
  if (issues.length === 0 && request.trunk === undefined) {
    const parsed = parseSipUri(request.to);
    if (parsed.ok && parsed.uri.hostKind === 'name') {
      const refusal = await resolvedRefusal(parsed.uri.host, policy.sip, lookup);
      if (refusal !== undefined) issues.push({ path: ['to'], message: `SIP destination ${refusal} (ROOMLINE_SIP_HOSTS)` });
    }
  }
  return issues.length === 0 ? undefined : summariseIssues(issues);
}

/**
 * For a name the list allows only through `*`: the first address it resolves to that the list refuses. A name that
 * does not resolve is not refused here (SIP may find it through SRV records; the call then fails on its own).
 */
export async function resolvedRefusal(
  name: string,
  list: HostAllowList,
  lookup: AddressLookup = systemLookup,
  timeoutMs = 3_000,
): Promise<string | undefined> {
  const verdict = list.check(name);
  if (!verdict.allowed) return verdict.reason;
  if (verdict.by !== 'any-name') return undefined;
  const addresses = await Promise.race([
    lookup(name).catch(() => [] as readonly string[]),
    new Promise<readonly string[]>((resolve) => setTimeout(() => resolve([]), timeoutMs).unref()),
  ]);
  for (const address of addresses) {
    const refusal = list.addressRefusal(address);
    if (refusal !== undefined) return `${name} resolves to ${refusal}`;
  }
  return undefined;
}
