import { z } from 'zod';

/**
 * The telephony vocabulary shared by the dial request, trunk settings, the call record, the page RPC and the client:
 * DTMF digits and how they travel, SRTP, the SIP leg's audio codecs, transports, and what to do with a transfer.
 */

/** How DTMF digits travel: RFC 2833/4733 telephone-events in the RTP stream, or SIP INFO (application/dtmf-relay). */
export const DTMF_CARRIAGES = ['rfc2833', 'info'] as const;
export type DtmfCarriage = (typeof DTMF_CARRIAGES)[number];

/**
 * How a digit the SIP peer sent reached the bridge: `info` (SIP INFO); `rfc2833`, a telephone-event read off the SIP
 * leg's RTP by the encoded relay (where the leg negotiated telephone-events and the relay taps it); or `audio`, heard
 * in the SIP leg's decoded audio (everywhere else: Janus 1.1.2 reports no RFC 2833 events, but WebRTC plays received
 * telephone-events out as their tones, so RFC 2833 digits arrive as `audio` there, as would tones sent in-band).
 */
export const DTMF_RECEIVED_CARRIAGES = ['info', 'rfc2833', 'audio'] as const;
export type DtmfReceivedCarriage = (typeof DTMF_RECEIVED_CARRIAGES)[number];

/** A DTMF digit. */
export const DTMF_DIGIT_PATTERN = /^[0-9*#A-D]$/;

/**
 * DTMF digits to send: 0-9, `*`, `#`, `A`-`D`, and `,` for a 2-second pause (as in WebRTC's RTCDTMFSender), e.g.
 * `,,1234#` waits 4 s, then sends a conference PIN.
 */
export const dtmfDigitsSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 digits and pauses')
  .transform((s) => s.toUpperCase())
  .pipe(z.string().regex(/^[0-9*#A-D,]+$/, 'must be DTMF digits 0-9 * # A-D, with "," for a 2-second pause'))
  .refine((s) => /[^,]/.test(s), 'must contain at least one digit');

/** SDES-SRTP on the SIP leg: none, offered, or required (Janus SIP `srtp`: sdes_optional / sdes_mandatory). */
export const SRTP_MODES = ['off', 'optional', 'mandatory'] as const;
export type SrtpMode = (typeof SRTP_MODES)[number];

/** Audio codecs the SIP leg can offer (what the page's WebRTC stack encodes and decodes). */
export const SIP_AUDIO_CODECS = ['opus', 'G722', 'PCMU', 'PCMA'] as const;
export type SipAudioCodec = (typeof SIP_AUDIO_CODECS)[number];

export const audioCodecListSchema = z
  .array(z.enum(SIP_AUDIO_CODECS))
  .min(1, 'must name at least one codec')
  .max(SIP_AUDIO_CODECS.length)
  .refine((list) => new Set(list).size === list.length, 'must not name a codec twice');

/** SIP transports of a trunk: UDP, TCP, or TLS (`sips:`). */
export const SIP_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type SipTransport = (typeof SIP_TRANSPORTS)[number];

/** What the bridge does when the SIP peer asks it to call someone else (a blind transfer, REFER). */
export const TRANSFER_POLICIES = ['follow', 'decline'] as const;
export type TransferPolicy = (typeof TRANSFER_POLICIES)[number];

/** Who did something on the SIP leg: the SIP peer, or the bridge (for the caller of the API). */
export const SIP_SIDES = ['remote', 'local'] as const;
export type SipSide = (typeof SIP_SIDES)[number];

/** The phases of a transfer, as the call record shows them. */
export const TRANSFER_PHASES = ['requested', 'followed', 'declined', 'failed'] as const;
export type TransferPhase = (typeof TRANSFER_PHASES)[number];

/** The digits of a DTMF string without its pauses. */
export function dtmfDigitCount(digits: string): number {
  return digits.replace(/,/g, '').length;
}
