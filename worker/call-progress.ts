import type { CallMedia } from '../contracts/call-record.js';
import type { PageEventOf } from '../contracts/page-rpc.js';
import type { EndIntent } from './call-ending.js';

/**
 * Where the INVITE is: `not-sent` (nothing reached Janus, or the page says Janus did not take it: a retry is safe),
 * `in-flight` (the dial command is out), `taken` (Janus took it: the phone rings), `unknown` (no answer from the page,
 * or a failure after the INVITE may have left: the phone may be ringing, so the call is never retried).
 */
export type InviteState = 'not-sent' | 'in-flight' | 'taken' | 'unknown';

/**
 * What a call session knows of its call as it goes, shared by its setup, its running call and its ending. All of it is
 * decided on the page's events and the session's own steps at once: record writes are queued and may lag behind.
 */
export class CallProgress {
  /** The first reason the bridge found to end the call. */
  intent: EndIntent | undefined;
  invite: InviteState = 'not-sent';
  /** Settles when the dial (or answer) command has been answered (or failed). */
  dialSettled: Promise<void> = Promise.resolve();
  ringing = false;
  connected = false;
  sipEnded: PageEventOf<'sip-ended'> | undefined;
  /** Held by either side now. */
  held = false;
  /** A blind transfer the caller asked for, once the peer reported it done: the end that follows is expected. */
  transferredTo: string | undefined;
  /** The media the record shows once connected; codec changes update it. */
  callMedia: CallMedia | undefined;
  /** A PIN is being entered: digits are not recorded. */
  collectingPin = false;

  private resolveEnd: () => void = () => undefined;
  /** Resolves once the SIP leg is down (or was never up) and the call can be finished. */
  readonly ended = new Promise<void>((resolve) => (this.resolveEnd = resolve));
  private resolveAnswered: () => void = () => undefined;
  /** Resolves once the SIP leg is connected. */
  readonly answered = new Promise<void>((resolve) => (this.resolveAnswered = resolve));

  /** Whether the phone may have been rung: from the moment the dial command left, unless the page said Janus refused it. */
  get mayHaveRung(): boolean {
    return this.invite !== 'not-sent';
  }

  /** Whether the call is ending or its SIP leg is down. */
  get over(): boolean {
    return this.intent !== undefined || this.sipEnded !== undefined;
  }

  markEnded(): void {
    this.resolveEnd();
  }

  markAnswered(): void {
    this.resolveAnswered();
  }

  /**
   * Sends the command that puts the INVITE out (a dial) or answers one (dial-in), and keeps track of whether the phone
   * may ring: `in-flight` while the command is out, `taken` once it succeeded, `unknown` when it failed, unless the
   * command itself set what the page said (a refusal Janus reported: `not-sent` when it is retryable).
   */
  async sendInvite(command: () => Promise<void>): Promise<void> {
    this.invite = 'in-flight';
    let settle: () => void = () => undefined;
    this.dialSettled = new Promise((resolve) => (settle = resolve));
    try {
      await command();
      this.invite = 'taken';
    } catch (error) {
      if (this.invite === 'in-flight') this.invite = 'unknown';
      throw error;
    } finally {
      settle();
    }
  }
}
