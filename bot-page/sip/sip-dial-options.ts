import type { SrtpMode } from '../../contracts/telephony.js';
import type { JanusJsep } from '../janus/janus-client.js';
import type { SipIdentity } from './sip-identity.js';
import type { SipLegMediaOptions } from './sip-leg-media.js';

/** What a SIP leg is told to dial or answer with (SipLeg.dial, prepare, answer). */

export interface DialOptions extends SipLegMediaOptions {
  readonly to: string;
  readonly identity: SipIdentity;
  readonly headers: Readonly<Record<string, string>>;
  /** SDES-SRTP towards the SIP peer. @default "off" */
  readonly srtp?: SrtpMode;
  /** This call follows a REFER (Janus's `refer_id`): the transferor is told how it goes. */
  readonly referId?: number;
}

/** A dial made ready to send (SipLeg.prepare): its options and its offer. */
export interface PreparedCall {
  readonly options: DialOptions;
  readonly offer: JanusJsep;
}

/** What answering an incoming call needs: a dialled call's options without a target, identity or headers. */
export type AnswerOptions = Omit<DialOptions, 'to' | 'identity' | 'headers' | 'referId'>;
