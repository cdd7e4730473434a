import type { SIP_PROGRESS_EVENTS } from '../../contracts/page-rpc.js';
import type { SipSide } from '../../contracts/telephony.js';

/** What a SIP leg reports (SipLeg.bind), and what a registered one reports of incoming calls. */

export type SipProgressEvent = (typeof SIP_PROGRESS_EVENTS)[number];

export interface SipLegEvents {
  progress(
    event: SipProgressEvent,
    detail: {
      code?: number;
      reason?: string;
      sipCallId?: string;
      audioCodec?: string;
      video?: { negotiated: boolean; codec?: string };
    },
  ): void;
  /** The SIP leg ended: `by` is `remote` for failure responses and BYEs, `local` after our own hangup. */
  ended(detail: { code?: number; reason?: string; by: 'remote' | 'local' }): void;
  /** A remote track from the SIP peer. */
  track(track: MediaStreamTrack): void;
  /** ICE/DTLS failed on the SIP leg. */
  mediaFailed(reason: string): void;
  /** The SIP peer sent a digit by SIP INFO. */
  dtmf(digit: string): void;
  /** One side held or resumed the call; `held` is whether either side holds it now. */
  holdChanged(change: { held: boolean; by: SipSide; change: 'hold' | 'resume' }): void;
  /** The peer changed the media with a re-INVITE (e.g. another codec) and the leg followed. */
  mediaUpdated(detail: { audioCodec?: string }): void;
  /** The peer asks the bridge to call someone else (REFER); answer with `declineTransfer` or a new leg's `dial`. */
  transferRequested(request: { referId: number; target: string }): void;
  /** How the transfer the bridge asked for goes, from the peer's NOTIFYs (a SIP status line each). */
  transferNotified(status: { code: number; reason?: string }): void;
}

/** An INVITE that reached a registered handle (dial-in). */
export interface IncomingCall {
  readonly sipCallId: string;
  readonly from: string;
  readonly displayName?: string;
  readonly to: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Where a registered handle reports incoming calls. */
export interface IncomingCallEvents {
  incoming(call: IncomingCall): void;
  /** The pending incoming call went away before an answer (cancelled, or declined). */
  gone(sipCallId: string | undefined): void;
}

/** Listeners that ignore every event: spread it under the ones a caller cares about. */
export const IGNORE_SIP_LEG_EVENTS: SipLegEvents = {
  progress: () => undefined,
  ended: () => undefined,
  track: () => undefined,
  mediaFailed: () => undefined,
  dtmf: () => undefined,
  holdChanged: () => undefined,
  mediaUpdated: () => undefined,
  transferRequested: () => undefined,
  transferNotified: () => undefined,
};
