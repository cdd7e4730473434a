import type { LegQuality } from '../../../contracts/call-record.js';
import { JanusSession } from '../../../bot-page/janus/janus-client.js';
import { LabAudio, type ClickOptions, type ClicksPlayed, type Recording } from '../person/lab-audio.js';
import { legQuality } from '../../../bot-page/media/stats.js';
import { SipLeg } from '../../../bot-page/sip/sip-leg.js';
import { IGNORE_SIP_LEG_EVENTS } from '../../../bot-page/sip/sip-leg-events.js';

/**
 * The benchmark's baseline: a browser page that calls the SIP phone directly through the Janus SIP plugin, with no
 * room and no bridge: the floor the bridge is compared with. Same Janus client and SIP leg as the bot, same audio
 * tools as the lab's room person. Driven through `window.__direct`.
 */
export interface DirectState {
  readonly calledAt: number | undefined;
  readonly acceptedAt: number | undefined;
  readonly endedAt: number | undefined;
  readonly endCode: number | undefined;
}

const now = () => performance.timeOrigin + performance.now();

class DirectCaller {
  private readonly audio = new LabAudio();
  private session: JanusSession | undefined;
  private sip: SipLeg | undefined;
  private calledAt: number | undefined;
  private acceptedAt: number | undefined;
  private endedAt: number | undefined;
  private endCode: number | undefined;

  /** Connects to Janus and gets the SIP stack going, as a warm worker does. */
  async prepare(options: { janusUrl: string; apiSecret?: string; toneHz: number }): Promise<void> {
    await this.audio.start(options.toneHz);
    this.session = await JanusSession.connect(options.janusUrl, { apiSecret: options.apiSecret });
    this.sip = await this.attach(this.session);
    await this.sip.warmUp('sip:roomline@roomline.invalid');
  }

  private async attach(session: JanusSession): Promise<SipLeg> {
    const leg = await SipLeg.attach(session);
    leg.bind({
      ...IGNORE_SIP_LEG_EVENTS,
      progress: (event) => {
        if (event === 'accepted') this.acceptedAt = now();
      },
      ended: (detail) => {
        this.endedAt = now();
        this.endCode = detail.code;
      },
      track: (track) => {
        if (track.kind === 'audio') this.audio.hear(track);
      },
    });
    return leg;
  }

  /** Places a call; resolves with the time the call was asked for (the baseline's "enqueue"). */
  async call(options: { to: string; from: string }): Promise<number> {
    if (this.session === undefined) throw new Error('prepare first');
    if (this.sip === undefined || this.calledAt !== undefined) {
      // one SIP leg per call, as the bot has: a new handle for the next call (its SIP stack warmed up again)
      await this.sip?.close().catch(() => undefined);
      this.sip = await this.attach(this.session);
      await this.sip.warmUp('sip:roomline@roomline.invalid');
    }
    this.acceptedAt = undefined;
    this.endedAt = undefined;
    this.endCode = undefined;
    this.calledAt = now();
    await this.sip.dial({
      to: options.to,
      identity: { kind: 'guest', uri: options.from },
      headers: {},
      iceServers: [],
      audio: this.audio.voiceTrack,
      video: undefined,
    });
    return this.calledAt;
  }

  async hangup(): Promise<void> {
    await this.sip?.hangup();
  }

  state(): DirectState {
    return { calledAt: this.calledAt, acceptedAt: this.acceptedAt, endedAt: this.endedAt, endCode: this.endCode };
  }

  playClicks(options: ClickOptions): ClicksPlayed {
    return this.audio.playClicks(options);
  }

  clicksPlayed(): ClicksPlayed {
    return this.audio.clicksPlayed();
  }

  setRecording(on: boolean): void {
    this.audio.setRecording(on);
  }

  recording(since?: number): Recording {
    return this.audio.recording(since);
  }

  async stats(): Promise<LegQuality> {
    const pc = this.sip?.peerConnection;
    return legQuality(pc === undefined ? [] : [pc]);
  }
}

Object.assign(globalThis, { __direct: new DirectCaller() });
document.title = 'roomline lab direct caller (ready)';
