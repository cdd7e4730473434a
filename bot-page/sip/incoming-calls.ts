import { errorMessage, log } from '../host.js';
import type { JanusJsep } from '../janus/janus-client.js';
import type { SipPluginEvent, SipPluginHandle } from '../janus/sip-plugin.js';
import type { IncomingCallEvents } from './sip-leg-events.js';

/**
 * Dial-in on a leg registered at a registrar: the INVITEs forked to its handle, reported as they come, and the one
 * waiting for the worker's answer or decline. The leg says whether it is free to take one.
 */
export class IncomingCalls {
  private pending: { readonly offer: JanusJsep | undefined; readonly sipCallId: string } | undefined;
  private events: IncomingCallEvents | undefined;

  constructor(private readonly sip: SipPluginHandle) {}

  /** Where incoming calls are reported from now on. */
  listen(events: IncomingCallEvents): void {
    this.events = events;
  }

  /** The INVITE waiting for an answer, if one is. */
  get waiting(): { readonly offer: JanusJsep | undefined } | undefined {
    return this.pending;
  }

  /** An INVITE arrived: reported, or refused with 486 where the leg is in a call of its own (`phase` not idle). */
  arrived(call: Extract<SipPluginEvent, { type: 'incoming-call' }>, phase: string): void {
    const callId = call.sipCallId;
    if (phase !== 'idle' || callId === undefined) {
      log.warn('an incoming call this leg cannot take', { phase });
      void this.sip.decline(486).catch(() => undefined);
      return;
    }
    this.pending = { offer: call.jsep, sipCallId: callId };
    this.events?.incoming({
      sipCallId: callId,
      from: call.from,
      ...(call.displayName === undefined || call.displayName === '' ? {} : { displayName: call.displayName }),
      to: call.to,
      headers: call.headers,
    });
  }

  /** The waiting INVITE went away (the caller cancelled, another contact answered, or it was declined). */
  ended(): void {
    const gone = this.pending;
    this.pending = undefined;
    if (gone !== undefined) this.events?.gone(gone.sipCallId);
  }

  /** Refuses the waiting INVITE with `code`; false when there was none (it went away meanwhile). */
  async decline(code: number): Promise<boolean> {
    if (this.pending === undefined) return false;
    this.pending = undefined;
    try {
      await this.sip.decline(code);
      return true;
    } catch (error) {
      log.debug('declining an incoming call failed', { error: errorMessage(error) });
      return false;
    }
  }

  /** The waiting INVITE was answered. */
  answered(): void {
    this.pending = undefined;
  }
}
