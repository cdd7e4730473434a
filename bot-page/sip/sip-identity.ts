import { RoomlineError } from '../../contracts/errors.js';
import { SIP_REGISTER_REQUEST_TIMEOUT_MS, type SipAccount } from '../../contracts/page-rpc.js';
import { errorMessage } from '../host.js';
import { JanusError } from '../janus/janus-error.js';
import type { SipPluginHandle, SipRegistration, SipRegistrationOutcome } from '../janus/sip-plugin.js';

/** Who the SIP leg calls as. */
export type SipIdentity =
  /** A guest identity: no REGISTER, no credentials; every request through `outboundProxy` when given. */
  | { readonly kind: 'guest'; readonly uri: string; readonly display?: string; readonly outboundProxy?: string }
  /** A trunk account: its credentials answer 401/407 challenges; with `register` a REGISTER goes first. */
  | { readonly kind: 'account'; readonly account: SipAccount; readonly display?: string }
  /** A second call of an identity registered on another leg (Janus SIP helper): same identity, credentials, transport. */
  | { readonly kind: 'helper'; readonly masterId: number; readonly uri: string };

/**
 * Registers the caller identity on a leg's handle: as a guest, with a trunk account (whose credentials then answer the
 * proxy's digest challenges; with `register` a REGISTER is sent and must succeed first), or as a helper of another
 * leg. Resolves with the id helpers of this handle name (none for a helper itself); a refusal rejects with its
 * RoomlineError (the registrar's status code kept).
 */
export async function registerIdentity(
  sip: SipPluginHandle,
  identity: SipIdentity,
  incomingHeaderPrefixes?: readonly string[],
): Promise<number | undefined> {
  const registration: SipRegistration =
    identity.kind === 'guest'
      ? { kind: 'guest', username: identity.uri, displayName: identity.display, outboundProxy: identity.outboundProxy }
      : identity.kind === 'account'
        ? { kind: 'account', account: identity.account, displayName: identity.display, incomingHeaderPrefixes }
        : { kind: 'helper', username: identity.uri, masterId: identity.masterId };
  const trunk = identity.kind === 'account';
  let outcome: SipRegistrationOutcome;
  try {
    outcome = await sip.register(registration, SIP_REGISTER_REQUEST_TIMEOUT_MS);
  } catch (error) {
    // an error the SIP plugin answered is about the identity or the account; anything else is a Janus in trouble
    if (!(error instanceof JanusError) || !error.plugin) {
      throw new RoomlineError('JANUS_UNAVAILABLE', `Janus did not answer the SIP registration: ${errorMessage(error)}`);
    }
    throw new RoomlineError(
      trunk ? 'SIP_AUTH_FAILED' : 'INVALID_REQUEST',
      `the SIP plugin refused the ${trunk ? 'trunk account' : 'caller identity'}: ${errorMessage(error)}`,
    );
  }
  if (!outcome.registered) {
    const code = outcome.code;
    throw new RoomlineError('SIP_AUTH_FAILED', `REGISTER with the trunk failed: ${code ?? ''} ${outcome.reason}`.trim(), {
      ...(code === undefined ? {} : { sipCode: code }),
    });
  }
  return identity.kind === 'helper' ? undefined : outcome.masterId;
}
