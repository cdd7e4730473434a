import { SIP_REGISTER_ANSWER_TIMEOUT_MS, type SipAccount } from '../../contracts/page-rpc.js';
import type { SrtpMode } from '../../contracts/telephony.js';
import type { HandleEvent, JanusHandle, JanusJsep, JanusSession } from './janus-client.js';

/**
 * The Janus SIP plugin on one handle, typed: its requests (register, call, accept, decline, hangup, hold, unhold,
 * update, dtmf_info, transfer, unregister) as methods and its events as a tagged union. The plugin's wire names stay
 * in here; what a call does with them is the SIP leg's (bot-page/sip/).
 */

const PLUGIN = 'janus.plugin.sip';

/** Whom a handle registers as. */
export type SipRegistration =
  /** A guest identity: no REGISTER is sent, no credentials; every request through `outboundProxy` when given. */
  | { readonly kind: 'guest'; readonly username: string; readonly displayName?: string | undefined; readonly outboundProxy?: string | undefined }
  /** A trunk account; with `incomingHeaderPrefixes`, the headers reported with incoming calls. */
  | {
      readonly kind: 'account';
      readonly account: SipAccount;
      readonly displayName?: string | undefined;
      readonly incomingHeaderPrefixes?: readonly string[];
    }
  /** A further call of an identity registered on the handle `masterId` (the plugin's helper). */
  | { readonly kind: 'helper'; readonly username: string; readonly masterId: number };

/** How a registration ended: `masterId` is the id helpers of this handle name. */
export type SipRegistrationOutcome =
  | { readonly registered: true; readonly masterId: number | undefined }
  | { readonly registered: false; readonly code: number | undefined; readonly reason: string };

/** An event of the SIP plugin, or of the handle under it (its PeerConnection closed, the handle detached). */
export type SipPluginEvent =
  | {
      readonly type: 'calling' | 'ringing' | 'proceeding';
      readonly code: number | undefined;
      readonly reason: string | undefined;
      readonly sipCallId: string | undefined;
    }
  /** Early media (183 with SDP) or the answer; `jsep` the peer's answer to the leg's offer, if it came now. */
  | { readonly type: 'progress' | 'accepted'; readonly jsep: JanusJsep | undefined }
  /** A re-INVITE from the peer, to be answered with `update`. */
  | { readonly type: 'updating-call'; readonly jsep: JanusJsep | undefined }
  /** A SIP INFO from the peer. */
  | { readonly type: 'info'; readonly contentType: string; readonly content: string }
  /** The peer asks the handle to call `target` instead (REFER). */
  | { readonly type: 'transfer'; readonly referId: number; readonly target: string }
  /** A NOTIFY about the handle's own REFER: `content` is a SIP status line. */
  | { readonly type: 'refer-notify'; readonly content: string }
  /** An INVITE to a registered handle. */
  | {
      readonly type: 'incoming-call';
      readonly sipCallId: string | undefined;
      readonly from: string;
      readonly displayName: string | undefined;
      readonly to: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly jsep: JanusJsep | undefined;
    }
  /** An INVITE came while the handle was busy: the plugin answered 486 by itself. */
  | { readonly type: 'missed-call' }
  | { readonly type: 'hangup'; readonly code: number | undefined; readonly reason: string | undefined }
  /** The plugin reported an error as an event. */
  | { readonly type: 'error'; readonly code: number; readonly error: string | undefined }
  /** An event this client does not read. */
  | { readonly type: 'other'; readonly event: string }
  /** Janus closed the handle's PeerConnection. */
  | { readonly type: 'media-closed'; readonly reason: string }
  /** The handle is gone (detached, or its session closed). */
  | { readonly type: 'detached' };

/** One handle of the Janus SIP plugin. */
export class SipPluginHandle {
  private listener: ((event: SipPluginEvent) => void) | undefined;
  private readonly backlog: SipPluginEvent[] = [];
  /**
   * While a `register` request is out: who waits for the registrar's answer, or the answer itself when it came before
   * the plugin's `registering`.
   */
  private registration: { outcome?: Record<string, unknown>; resolve?: (result: Record<string, unknown>) => void } | undefined;
  private unregistration: (() => void) | undefined;

  private constructor(private readonly handle: JanusHandle) {
    handle.listen((event) => this.onHandleEvent(event));
  }

  static async attach(session: JanusSession): Promise<SipPluginHandle> {
    return new SipPluginHandle(await session.attach(PLUGIN));
  }

  /** Sets the one listener of the handle's events; events queued before are replayed. */
  listen(listener: (event: SipPluginEvent) => void): void {
    this.listener = listener;
    for (const event of this.backlog.splice(0)) listener(event);
  }

  /**
   * Registers the handle (`register`); where a REGISTER goes out, resolves with the registrar's answer. A refusal of
   * the plugin rejects with a JanusError marked `plugin`.
   */
  async register(registration: SipRegistration, timeoutMs: number): Promise<SipRegistrationOutcome> {
    // The plugin's thread answers `registering` after handing the REGISTER to its SIP stack, whose thread may have had
    // the registrar's answer and pushed it first (a local registrar, a busy machine), under a transaction of its own:
    // such an answer is kept for this request.
    const pending: NonNullable<SipPluginHandle['registration']> = {};
    this.registration = pending;
    let result: Record<string, unknown>;
    try {
      const { data } = await this.handle.request(registerBody(registration), undefined, timeoutMs);
      result = resultOf(data);
      if (result['event'] === 'registering') {
        result =
          pending.outcome ??
          (await new Promise<Record<string, unknown>>((resolve) => {
            const timer = setTimeout(() => resolve({ event: 'registration_failed', reason: 'no answer to REGISTER' }), SIP_REGISTER_ANSWER_TIMEOUT_MS);
            pending.resolve = (outcome) => {
              clearTimeout(timer);
              resolve(outcome);
            };
          }));
      }
    } finally {
      if (this.registration === pending) this.registration = undefined;
    }
    if (result['event'] === 'registration_failed') {
      return { registered: false, code: numberOf(result['code']), reason: String(result['reason'] ?? '') };
    }
    return { registered: true, masterId: numberOf(result['master_id']) };
  }

  /** Removes the registration; resolves true once the registrar confirmed it, false after `timeoutMs`. */
  async unregister(timeoutMs: number): Promise<boolean> {
    const done = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.unregistration = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    try {
      await this.handle.request({ request: 'unregister' }, undefined, timeoutMs);
    } catch (error) {
      this.unregistration = undefined;
      throw error;
    }
    return done;
  }

  /**
   * Sends the INVITE with `offer`; resolves once Janus took it (progress comes as events). Re-INVITEs come to the
   * handle as `updating-call` events, to be answered with {@link update}.
   */
  async call(call: { uri: string; headers: Readonly<Record<string, string>>; srtp: SrtpMode; referId?: number | undefined }, offer: JanusJsep): Promise<void> {
    await this.handle.send(
      {
        request: 'call',
        uri: call.uri,
        headers: { ...call.headers },
        autoaccept_reinvites: false,
        ...srtpOf(call.srtp),
        ...(call.referId === undefined ? {} : { refer_id: call.referId }),
      },
      offer,
    );
  }

  /** Answers the incoming call with `answer` (Janus sends the 200 OK); re-INVITEs come as for {@link call}. */
  async accept(srtp: SrtpMode, answer: JanusJsep): Promise<void> {
    await this.handle.send({ request: 'accept', autoaccept_reinvites: false, ...srtpOf(srtp) }, answer);
  }

  /** Refuses the incoming call with `code`, or with `referId` the peer's transfer (its NOTIFY carries `code`). */
  async decline(code: number, referId?: number): Promise<void> {
    await this.handle.request({ request: 'decline', ...(referId === undefined ? {} : { refer_id: referId }), code });
  }

  /** BYE once answered, CANCEL while inviting; resolves once Janus acknowledged it (the end comes as `hangup`). */
  async hangup(): Promise<void> {
    await this.handle.send({ request: 'hangup' });
  }

  /** Holds the call: a re-INVITE with the media in `direction`. */
  async hold(direction: 'sendonly' | 'recvonly' | 'inactive'): Promise<void> {
    await this.handle.request({ request: 'hold', direction });
  }

  async unhold(): Promise<void> {
    await this.handle.request({ request: 'unhold' });
  }

  /** Answers a re-INVITE (`updating-call`). */
  async update(answer: JanusJsep): Promise<void> {
    await this.handle.request({ request: 'update' }, answer);
  }

  /** Sends one digit as a SIP INFO (application/dtmf-relay). */
  async dtmfInfo(digit: string, durationMs: number): Promise<void> {
    await this.handle.request({ request: 'dtmf_info', digit, duration: durationMs });
  }

  /** Asks the peer to call `uri` instead (REFER); its NOTIFYs come as `refer-notify`. */
  async transfer(uri: string): Promise<void> {
    await this.handle.request({ request: 'transfer', uri });
  }

  trickle(candidate: RTCIceCandidate | null): void {
    this.handle.trickle(candidate);
  }

  async detach(): Promise<void> {
    await this.handle.detach();
  }

  private onHandleEvent(event: HandleEvent): void {
    let sipEvent: SipPluginEvent | undefined;
    switch (event.kind) {
      case 'plugin':
        sipEvent = this.toSipEvent(event.data, event.jsep);
        break;
      case 'hangup':
        sipEvent = { type: 'media-closed', reason: event.reason };
        break;
      case 'detached':
        sipEvent = { type: 'detached' };
        break;
      case 'webrtcup':
      case 'media':
      case 'slowlink':
        break;
    }
    if (sipEvent === undefined) return;
    if (this.listener === undefined) this.backlog.push(sipEvent);
    else this.listener(sipEvent);
  }

  /** Gives a registration's outcome to the `register` waiting for it, or keeps it for the one still in flight. */
  private settleRegistration(result: Record<string, unknown>): void {
    const pending = this.registration;
    if (pending === undefined) return;
    if (pending.resolve !== undefined) pending.resolve(result);
    else pending.outcome ??= result;
  }

  /** Reads a plugin event; the answers to `register` and `unregister` go to the requests waiting for them. */
  private toSipEvent(data: Record<string, unknown>, jsep: JanusJsep | undefined): SipPluginEvent | undefined {
    const errorCode = data['error_code'];
    if (typeof errorCode === 'number') {
      const error = data['error'];
      const text = error === undefined || error === null ? undefined : String(error);
      // a plugin error while a REGISTER waits for its answer ends that wait with the plugin's reason
      const failed = { event: 'registration_failed', code: errorCode, reason: text ?? `SIP plugin error ${errorCode}` };
      this.settleRegistration(failed);
      return { type: 'error', code: errorCode, error: text };
    }
    const result = resultOf(data);
    const event = String(result['event'] ?? '');
    const code = numberOf(result['code']);
    const reason = typeof result['reason'] === 'string' ? result['reason'] : undefined;
    const sipCallId = typeof data['call_id'] === 'string' ? data['call_id'] : undefined;
    switch (event) {
      case 'calling':
      case 'ringing':
      case 'proceeding':
        return { type: event, code, reason, sipCallId };
      case 'progress':
      case 'accepted':
        return { type: event, jsep };
      case 'updatingcall':
        return { type: 'updating-call', jsep };
      case 'registered':
      case 'registration_failed':
        this.settleRegistration(result);
        return undefined;
      case 'unregistered':
        this.unregistration?.();
        this.unregistration = undefined;
        return undefined;
      case 'info':
        return { type: 'info', contentType: String(result['type'] ?? ''), content: String(result['content'] ?? '') };
      case 'transfer': {
        const referId = result['refer_id'];
        const target = result['refer_to'];
        return typeof referId === 'number' && typeof target === 'string' ? { type: 'transfer', referId, target } : undefined;
      }
      case 'notify':
        return result['notify'] === 'refer' ? { type: 'refer-notify', content: String(result['content'] ?? '') } : undefined;
      case 'incomingcall':
        return incomingCall(result, sipCallId, jsep);
      case 'missed_call':
        return { type: 'missed-call' };
      case 'hangup':
        return { type: 'hangup', code, reason };
      default:
        return { type: 'other', event };
    }
  }
}

function registerBody(registration: SipRegistration): Record<string, unknown> {
  switch (registration.kind) {
    case 'guest':
      return {
        request: 'register',
        type: 'guest',
        username: registration.username,
        ...(registration.displayName === undefined ? {} : { display_name: registration.displayName }),
        ...(registration.outboundProxy === undefined ? {} : { outbound_proxy: registration.outboundProxy }),
      };
    case 'account': {
      const account = registration.account;
      const transport = account.transport ?? 'udp';
      return {
        request: 'register',
        username: account.username,
        secret: account.secret,
        proxy: account.proxy,
        ...(account.outboundProxy === undefined ? {} : { outbound_proxy: account.outboundProxy }),
        ...(account.authUsername === undefined ? {} : { authuser: account.authUsername }),
        send_register: account.register,
        ...(transport === 'tcp' ? { force_tcp: true } : {}),
        ...(transport === 'tls' ? { sips: true } : {}),
        ...(registration.displayName === undefined ? {} : { display_name: registration.displayName }),
        ...(registration.incomingHeaderPrefixes === undefined ? {} : { incoming_header_prefixes: [...registration.incomingHeaderPrefixes] }),
      };
    }
    case 'helper':
      return { request: 'register', type: 'helper', username: registration.username, master_id: registration.masterId };
  }
}

function incomingCall(result: Record<string, unknown>, sipCallId: string | undefined, jsep: JanusJsep | undefined): SipPluginEvent {
  const headers: Record<string, string> = {};
  const raw = result['headers'];
  if (typeof raw === 'object' && raw !== null) {
    for (const [name, value] of Object.entries(raw)) if (typeof value === 'string') headers[name] = value;
  }
  return {
    type: 'incoming-call',
    sipCallId: sipCallId ?? (typeof result['call_id'] === 'string' ? result['call_id'] : undefined),
    from: String(result['username'] ?? ''),
    displayName: typeof result['displayname'] === 'string' ? result['displayname'].replace(/^"|"$/g, '') : undefined,
    to: String(result['callee'] ?? ''),
    headers,
    jsep,
  };
}

function resultOf(data: Record<string, unknown>): Record<string, unknown> {
  return (data['result'] ?? {}) as Record<string, unknown>;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function srtpOf(srtp: SrtpMode): Record<string, string> {
  return srtp === 'off' ? {} : { srtp: srtp === 'mandatory' ? 'sdes_mandatory' : 'sdes_optional' };
}
