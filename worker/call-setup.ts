import { splitTileNames, type DialRequest, type MediaOptions, type RoomJoin } from '../contracts/dial-request.js';
import {
  SIP_REGISTER_ANSWER_TIMEOUT_MS,
  SIP_REGISTER_REQUEST_TIMEOUT_MS,
  type PageCommand,
  type PageCommandResults,
  type SipLegOptions,
} from '../contracts/page-rpc.js';
import { roomJoinTimeoutS } from '../contracts/rooms/index.js';
import type { DtmfCarriage } from '../contracts/telephony.js';
import type { CallProgress } from './call-progress.js';
import { DEFAULT_PAGE_TIMEOUT_MS } from './config.js';
import type { PageOutcome } from './page-bridge.js';
import type { CallSessionOptions, InboundCallOptions, RoutedPin } from './call-session-options.js';
import type { TrunkCredentials } from './trunks.js';
import { preciseNow, type SetupRecorder } from './setup-recorder.js';

type Request = DialRequest & { callId: string };
type DialCommand = Extract<PageCommand, { type: 'dial' }>;

/** What a dialled call's SIP leg is prepared for while the room joins: its trunk and its settings. */
export interface DialPlan {
  readonly trunk: TrunkCredentials | undefined;
  readonly sip: SipLegOptions;
}

/**
 * The call's setup steps on the bot page: the room prepared and joined, the INVITE sent (a dialled call) or answered
 * (dial-in), a PIN line's PIN asked for. Each step keeps the call's progress up to date (where the INVITE is); the
 * room's preparation is undone by {@link release}.
 */
export class CallSetup {
  private releaseRoom: (() => Promise<void>) | undefined;

  constructor(
    private readonly options: CallSessionOptions,
    private readonly progress: CallProgress,
    /** The request's media, capped by the worker. */
    private readonly media: MediaOptions,
    private readonly trace: SetupRecorder,
  ) {}

  /**
   * Prepares the request's room and joins it; resolves with how many participants were there. With `dial`, the page
   * prepares that dial's SIP leg while it joins (nothing reaches Janus's `call`, so the phone cannot ring before the
   * join succeeded).
   */
  async joinRoom(request: Request, dial?: DialPlan): Promise<number> {
    const prepared = await this.trace.time('room.prepare', () => this.prepareRoom(request));
    // a provider may need longer to join than a page command usually takes (a web app's join steps)
    const joinTimeoutS = roomJoinTimeoutS(prepared);
    const prepareDial = dial === undefined ? undefined : withoutType(this.dialCommand(request, dial.trunk, dial.sip));
    const sentAt = preciseNow();
    let outcome: PageOutcome<PageCommandResults['join-room']>;
    try {
      outcome = await this.options.bridge.request(
        {
          type: 'join-room',
          room: prepared,
          display: botDisplay(request),
          media: this.media,
          dataMessages: request.sip.dtmfToRoom,
          ...(prepareDial === undefined ? {} : { prepareDial }),
        },
        ...(joinTimeoutS === undefined ? [] : [Math.max(this.options.pageTimeoutMs ?? 0, (joinTimeoutS + 10) * 1000)]),
      );
    } catch (error) {
      this.trace.command('join-room', sentAt, undefined, error instanceof Error ? error.message : String(error));
      throw error;
    }
    this.trace.command('join-room', sentAt, outcome.trace, outcome.kind === 'failed' ? outcome.error.message : undefined);
    if (outcome.kind === 'failed') throw outcome.error;
    const joined = outcome.result;
    this.options.logger.info({ participants: joined.participants.length }, 'joined the room');
    return joined.participants.length;
  }

  /**
   * Dial-in: answers the INVITE the worker claimed (the phone is ringing already: the call counts as dialled from
   * the moment the answer leaves, so an end hangs it up with a BYE rather than declining it).
   */
  async answer(sip: SipLegOptions): Promise<void> {
    await this.progress.sendInvite(async () => {
      const sentAt = preciseNow();
      const outcome = await this.options.bridge.request({ type: 'answer', media: this.media, sip });
      this.trace.command('answer', sentAt, outcome.trace, outcome.kind === 'failed' ? outcome.error.message : undefined);
      if (outcome.kind === 'failed') throw outcome.error;
    });
  }

  /**
   * Sends the dial command and keeps track of whether the phone may ring: `taken` once the page says Janus took the
   * INVITE; back to `not-sent` only when the page says Janus did not (a retryable failure); `unknown` otherwise.
   */
  async dial(request: Request, trunk: TrunkCredentials | undefined, sip: SipLegOptions): Promise<void> {
    const { bridge } = this.options;
    await this.progress.sendInvite(async () => {
      const sentAt = preciseNow();
      // through a trunk that registers, the page waits for the registrar before the INVITE: its own bounds come first
      const registerWaitMs = trunk?.register === true ? SIP_REGISTER_REQUEST_TIMEOUT_MS + SIP_REGISTER_ANSWER_TIMEOUT_MS : 0;
      const outcome = await bridge.request(
        this.dialCommand(request, trunk, sip),
        ...(registerWaitMs === 0 ? [] : [(this.options.pageTimeoutMs ?? DEFAULT_PAGE_TIMEOUT_MS) + registerWaitMs]),
      );
      this.trace.command('dial', sentAt, outcome.trace, outcome.kind === 'failed' ? outcome.error.message : undefined);
      if (outcome.kind === 'ok') return;
      this.progress.invite = outcome.error.retryable ? 'not-sent' : 'unknown';
      throw outcome.error;
    });
  }

  /** The dial command of a request: the same for the leg prepared during the join and for its INVITE. */
  private dialCommand(request: Request, trunk: TrunkCredentials | undefined, sip: SipLegOptions): DialCommand {
    return {
      type: 'dial',
      to: request.to,
      // through a trunk the From is the trunk's identity, with the request's display name
      from:
        trunk === undefined
          ? (request.from ?? { uri: this.options.defaultFrom })
          : { uri: trunk.username, ...(request.from?.displayName === undefined ? {} : { displayName: request.from.displayName }) },
      headers: request.headers ?? {},
      media: this.media,
      display: botDisplay(request),
      ...(trunk === undefined ? {} : { account: trunk.toSipAccount() }),
      sip,
    };
  }

  /**
   * A PIN line: plays the prompt, collects digits up to "#" (or 12 digits, or the entry timeout), looks the PIN up;
   * a wrong PIN gets the retry prompt, until the attempts are used up (then the goodbye prompt). Digits typed during
   * a prompt count. Resolves undefined when no PIN opened a route, or the call ended meanwhile.
   */
  async collectPin(pin: NonNullable<InboundCallOptions['pin']>): Promise<RoutedPin | undefined> {
    const { bridge, logger } = this.options;
    const progress = this.progress;
    let typed = '';
    let wake: () => void = () => undefined;
    const unsubscribe = bridge.on('sip-dtmf', (event) => {
      typed += event.digit;
      wake();
    });
    progress.collectingPin = true;
    try {
      const attempts = pin.attempts ?? 3;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (progress.over) return undefined;
        await bridge.send({ type: 'play-prompt', prompt: attempt === 1 ? 'enter-pin' : 'wrong-pin' }, 30_000);
        const deadline = Date.now() + (pin.entryTimeoutS ?? 15) * 1000;
        while (!typed.includes('#') && typed.length < 12 && Date.now() < deadline && !progress.over) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
            void progress.ended.then(wake);
          });
        }
        const end = typed.indexOf('#');
        const entered = (end === -1 ? typed : typed.slice(0, end)).replace(/[^0-9]/g, '');
        typed = end === -1 ? '' : typed.slice(end + 1);
        if (progress.over) return undefined;
        const routed = entered.length === 0 ? undefined : await pin.lookup(entered);
        if (routed !== undefined) return routed;
        logger.info({ attempt, digits: entered.length }, 'no route for the PIN entered');
      }
      await bridge.send({ type: 'play-prompt', prompt: 'goodbye' }, 30_000).catch(() => undefined);
      return undefined;
    } finally {
      unsubscribe();
      progress.collectingPin = false;
    }
  }

  /** Undoes the room's preparation, if it was prepared. */
  async release(): Promise<void> {
    await this.releaseRoom?.();
  }

  private async prepareRoom(request: Request): Promise<RoomJoin> {
    if (this.options.prepareRoom === undefined) return request.room;
    const display = botDisplay(request);
    const split = this.media.splitIncoming;
    const prepared = await this.options.prepareRoom(request.room, {
      callId: request.callId,
      display,
      tiles: split === undefined ? [] : splitTileNames(split, display),
    });
    this.releaseRoom = () => prepared.release();
    return prepared.room;
  }
}

/** The SIP leg's settings, and how digits are sent: the request's, else its trunk's, else the defaults. */
export function sipLegOptions(
  wanted: DialRequest['sip'],
  trunk: TrunkCredentials | undefined,
): { readonly sip: SipLegOptions; readonly dtmfCarriage: DtmfCarriage } {
  const audioCodecs = wanted.audioCodecs ?? trunk?.audioCodecs;
  return {
    sip: {
      srtp: wanted.srtp ?? trunk?.srtp ?? 'off',
      ...(audioCodecs === undefined ? {} : { audioCodecs: [...audioCodecs] }),
      detectDtmf: true,
      transfer: wanted.transfer,
      dtmfToRoom: wanted.dtmfToRoom,
    },
    dtmfCarriage: wanted.dtmf ?? trunk?.dtmf ?? 'rfc2833',
  };
}

function withoutType({ type: _type, ...fields }: DialCommand): Omit<DialCommand, 'type'> {
  return fields;
}

/** The bot's name in the room: the request's, else "Phone" and the user part of the SIP target. */
export function botDisplay(request: DialRequest): string {
  if (request.room.display !== undefined) return request.room.display;
  const user = /^sips?:([^@;]+)@/.exec(request.to)?.[1];
  return `Phone ${user ?? request.to.replace(/^sips?:/, '')}`;
}
