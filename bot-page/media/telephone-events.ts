/**
 * Reads DTMF digits off RFC 4733 telephone-event payloads (the encoded relay sees the SIP leg's RTP before WebRTC's
 * decoder does). One event is sent as several packets with the same RTP timestamp (its start), the last three marked
 * as its end; a digit is counted once, at the first packet of an event.
 */

/** Events 0-15 of RFC 4733 §3.2: the DTMF digits. Other events (tones, flash) are not digits. */
const DIGITS = '0123456789*#ABCD';

export class TelephoneEventReader {
  private last: { readonly timestamp: number | undefined; readonly event: number; ended: boolean } | undefined;

  /**
   * One telephone-event payload and its RTP timestamp: the digit it starts, or undefined (a later packet of an event
   * already counted, a payload too short, an event that is no digit).
   */
  read(payload: ArrayBuffer, rtpTimestamp: number | undefined): string | undefined {
    if (payload.byteLength < 4) return undefined;
    const bytes = new Uint8Array(payload, 0, 4);
    const event = bytes[0]!;
    const end = (bytes[1]! & 0x80) !== 0;
    const last = this.last;
    // without timestamps, the same digit after its end packets (sent three times) is a new press
    const same = last !== undefined && last.event === event && (rtpTimestamp === undefined ? !last.ended || end : last.timestamp === rtpTimestamp);
    if (same) {
      last.ended ||= end;
      return undefined;
    }
    this.last = { timestamp: rtpTimestamp, event, ended: end };
    return event < DIGITS.length ? DIGITS[event] : undefined;
  }
}
