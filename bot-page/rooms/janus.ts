import type { LegQuality } from '../../contracts/call-record.js';
import { RoomlineError } from '../../contracts/errors.js';
import { janusRoom, type JanusRoomJoin } from '../../contracts/rooms/janus.js';
import { errorMessage, log } from '../host.js';
import { JanusSession, type HandleEvent, type JanusHandle } from '../janus/janus-client.js';
import { JanusError } from '../janus/janus-error.js';
import { legQuality } from '../media/stats.js';
import { NO_STEPS, type StepRecorder } from '../setup-steps.js';
import type {
  PublishedTracks,
  RoomAdapter,
  RoomAdapterEvents,
  RoomAdapterFactory,
  RoomAdapterOptions,
  RoomFeed,
  RoomJoined,
  RoomParticipant,
} from './room-adapter.js';

const PLUGIN = 'janus.plugin.videoroom';

/** VideoRoom error codes that mean the request itself cannot succeed (no such room, bad pin, room full...). */
const JOIN_REFUSALS = new Set([426, 427, 428, 429, 432, 433, 434, 436, 437]);

interface Subscription {
  readonly feedId: string;
  readonly handle: JanusHandle;
  readonly pc: RTCPeerConnection;
}

export const createJanusRoom: RoomAdapterFactory<'janus'> = (room, events, options) =>
  new JanusVideoRoom(room, events, options);

/**
 * Janus VideoRoom (multistream, Janus >= 1.0). The bot joins as a publisher (that handle also carries the room's
 * events), publishes its feed, adds one publisher per extra feed, and subscribes to every other publisher with one
 * subscriber handle per feed.
 */
class JanusVideoRoom implements RoomAdapter {
  readonly provider = 'janus' as const;
  readonly capabilities = janusRoom.capabilities;
  private session: JanusSession | undefined;
  private mainHandle: JanusHandle | undefined;
  private mainFeed: { id: string; pc: RTCPeerConnection | undefined } | undefined;
  private privateId: number | undefined;
  private readonly ownFeeds = new Set<string>();
  private readonly extraFeeds: { handle: JanusHandle; pc: RTCPeerConnection }[] = [];
  private readonly others = new Map<string, RoomParticipant>();
  private readonly publishers = new Set<string>();
  private readonly subscriptions = new Map<string, Subscription>();
  private leaving = false;
  private channel: RTCDataChannel | undefined;
  /** The join's steps; the first subscription is one of them. */
  private readonly steps: StepRecorder;
  private subscribed = false;

  constructor(
    private readonly room: JanusRoomJoin,
    private readonly events: RoomAdapterEvents,
    private readonly options: RoomAdapterOptions,
  ) {
    this.steps = options.steps ?? NO_STEPS;
  }

  async join(display: string, tracks: PublishedTracks): Promise<RoomJoined> {
    const steps = this.steps;
    try {
      this.session = await steps.time('room.connect', () =>
        JanusSession.connect(this.room.serverUrl, { timeoutMs: 5_000, token: this.room.token, apiSecret: this.room.apiSecret }),
      );
    } catch (error) {
      throw new RoomlineError('ROOM_UNREACHABLE', `cannot reach the room's Janus server: ${errorMessage(error)}`);
    }
    this.session.onClosed((reason) => {
      if (!this.leaving) this.events.lost(`room server connection lost: ${reason}`);
    });
    const session = this.session;
    const handle = await steps.time('room.attach', () => session.attach(PLUGIN));
    this.mainHandle = handle;
    let joined: Record<string, unknown>;
    try {
      ({ data: joined } = await steps.time('room.join', () => handle.request(this.joinBody('publisher', display))));
    } catch (error) {
      throw this.joinFailure(error);
    }
    const selfId = String(joined['id']);
    this.privateId = typeof joined['private_id'] === 'number' ? joined['private_id'] : undefined;
    this.mainFeed = { id: selfId, pc: undefined };
    this.ownFeeds.add(selfId);
    handle.listen((event) => this.onRoomEvent(event));
    for (const attendee of asList(joined['attendees'])) this.addParticipant(attendee);
    for (const publisher of asList(joined['publishers'])) this.addPublisher(publisher);
    // admitted: the bot's feed is negotiated while the caller goes on (e.g. places the SIP call)
    const published = steps
      .time('room.publish', () => this.publish(handle, display, tracks, this.options.dataChannel === true, true))
      .then((pc) => {
        if (this.mainFeed !== undefined) this.mainFeed.pc = pc;
      });
    published.catch(() => undefined);
    return { selfId, participants: this.participants(), published };
  }

  async replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack): Promise<void> {
    const sender = this.mainFeed?.pc?.getSenders().find((s) => s.track?.kind === kind);
    if (sender === undefined) throw new RoomlineError('INTERNAL', `the bot publishes no ${kind} to replace`);
    if (sender.track !== track) await sender.replaceTrack(track);
  }

  /** A further feed is its own publisher in the room, on its own handle. */
  async addFeed(name: string, track: MediaStreamTrack): Promise<RoomFeed> {
    const session = this.session;
    if (session === undefined) throw new RoomlineError('INTERNAL', 'addFeed before join');
    const handle = await session.attach(PLUGIN);
    const { data } = await handle.request(this.joinBody('publisher', name)).catch((error: unknown) => {
      throw this.joinFailure(error);
    });
    const feedId = String(data['id']);
    this.ownFeeds.add(feedId);
    handle.listen(() => undefined);
    const pc = await this.publish(handle, name, { video: track });
    this.extraFeeds.push({ handle, pc });
    return {
      id: feedId,
      close: async () => {
        pc.close();
        await handle.request({ request: 'leave' }).catch(() => undefined);
        await handle.detach();
      },
    };
  }

  async sendData(text: string): Promise<void> {
    const channel = this.channel;
    if (channel === undefined) throw new RoomlineError('INTERNAL', 'the bot joined without a data channel');
    if (channel.readyState === 'connecting') {
      await new Promise<void>((resolve, reject) => {
        channel.addEventListener('open', () => resolve(), { once: true });
        channel.addEventListener('close', () => reject(new Error('the data channel closed')), { once: true });
      });
    }
    if (channel.readyState !== 'open') throw new RoomlineError('INTERNAL', `the data channel is ${channel.readyState}`);
    channel.send(text);
  }

  /**
   * Publishes `tracks` on `handle` (a joined publisher), with a data channel when asked (the VideoRoom relays its
   * messages to subscribers of the feed's data stream); resolves with the sending peer connection.
   */
  /** `main`: the bot's own feed, whose senders the encoded relay may tap (a tile of the SIP picture is not). */
  private async publish(handle: JanusHandle, display: string, tracks: PublishedTracks, data = false, main = false): Promise<RTCPeerConnection> {
    const pc = new RTCPeerConnection({ iceServers: [...this.options.iceServers], bundlePolicy: 'max-bundle' });
    pc.onicecandidate = (event) => handle.trickle(event.candidate);
    if (tracks.audio !== undefined) {
      const audio = pc.addTransceiver(tracks.audio, { direction: 'sendonly' });
      if (main) this.options.encoded?.sender(audio.sender);
    }
    if (tracks.video !== undefined) {
      const video = pc.addTransceiver(tracks.video, { direction: 'sendonly' });
      if (main) this.options.encoded?.sender(video.sender, 'video');
    }
    if (data) this.channel = pc.createDataChannel('roomline');
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const { jsep } = await handle.request(
      { request: 'publish', display },
      { type: 'offer', sdp: pc.localDescription?.sdp ?? '' },
    );
    if (jsep === undefined) throw new RoomlineError('ROOM_JOIN_FAILED', 'the VideoRoom did not answer the publish offer');
    await pc.setRemoteDescription(jsep);
    return pc;
  }

  participants(): RoomParticipant[] {
    return [...this.others.values()];
  }

  private receivingConnections(): RTCPeerConnection[] {
    return [...this.subscriptions.values()].map((s) => s.pc);
  }

  async leave(): Promise<void> {
    if (this.leaving) return;
    this.leaving = true;
    for (const subscription of this.subscriptions.values()) subscription.pc.close();
    this.subscriptions.clear();
    for (const feed of this.extraFeeds) feed.pc.close();
    this.mainFeed?.pc?.close();
    await this.mainHandle?.request({ request: 'leave' }, undefined, 2_000).catch(() => undefined);
    await this.session?.destroy();
  }

  async stats(): Promise<LegQuality> {
    const sending = [this.mainFeed?.pc, ...this.extraFeeds.map((f) => f.pc)].filter(
      (pc): pc is RTCPeerConnection => pc !== undefined,
    );
    const [incoming, outgoing] = await Promise.all([legQuality(this.receivingConnections()), legQuality(sending)]);
    return {
      ...(incoming.audioIn === undefined ? {} : { audioIn: incoming.audioIn }),
      ...(incoming.videoIn === undefined ? {} : { videoIn: incoming.videoIn }),
      ...(outgoing.audioOut === undefined ? {} : { audioOut: outgoing.audioOut }),
      ...(outgoing.videoOut === undefined ? {} : { videoOut: outgoing.videoOut }),
    };
  }

  private joinBody(ptype: 'publisher' | 'subscriber', display?: string): Record<string, unknown> {
    return {
      request: 'join',
      ptype,
      room: this.room.roomId,
      ...(this.room.pin === undefined ? {} : { pin: this.room.pin }),
      ...(display === undefined ? {} : { display }),
    };
  }

  private joinFailure(error: unknown): RoomlineError {
    if (error instanceof JanusError && error.plugin && error.code !== undefined && JOIN_REFUSALS.has(error.code)) {
      return new RoomlineError('ROOM_JOIN_FAILED', `the room refused the bot: ${error.message} (${error.code})`);
    }
    if (error instanceof JanusError && error.transport) {
      return new RoomlineError('ROOM_UNREACHABLE', `the room's server went away while joining: ${error.message}`);
    }
    return new RoomlineError('ROOM_JOIN_FAILED', `joining the room failed: ${errorMessage(error)}`);
  }

  private onRoomEvent(event: HandleEvent): void {
    if (event.kind === 'detached') {
      if (!this.leaving) this.events.lost('the room handle was detached');
      return;
    }
    if (event.kind !== 'plugin') return;
    const data = event.data;
    if (data['videoroom'] === 'destroyed') {
      this.events.lost('the room was destroyed');
      return;
    }
    if (data['joining'] !== undefined) this.addParticipant(data['joining']);
    for (const publisher of asList(data['publishers'])) this.addPublisher(publisher);
    for (const key of ['unpublished', 'leaving', 'kicked']) {
      const id = data[key];
      if (id === undefined || id === 'ok') continue;
      this.dropSubscription(String(id));
      if (key !== 'unpublished') this.removeParticipant(String(id));
    }
  }

  private addParticipant(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    const id = String(record['id']);
    if (this.ownFeeds.has(id) || this.others.has(id)) return;
    const participant: RoomParticipant = {
      id,
      ...(typeof record['display'] === 'string' ? { display: record['display'] } : {}),
    };
    this.others.set(id, participant);
    this.events.participantJoined(participant);
  }

  private removeParticipant(id: string): void {
    const participant = this.others.get(id);
    if (participant === undefined) return;
    this.others.delete(id);
    this.publishers.delete(id);
    this.events.participantLeft(participant);
  }

  private addPublisher(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    const publisher = value as Record<string, unknown>;
    const id = String(publisher['id']);
    if (this.ownFeeds.has(id) || this.publishers.has(id)) return;
    this.addParticipant(value);
    this.publishers.add(id);
    // only the kinds the bot uses: an audio call in a video room decodes no video
    const streams = asList(publisher['streams'])
      .map((stream) => stream as Record<string, unknown>)
      .filter(
        (stream) =>
          stream['type'] === 'audio' ||
          (this.options.receiveVideo && stream['type'] === 'video') ||
          (this.options.receiveData === true && stream['type'] === 'data'),
      )
      .filter((stream) => stream['disabled'] !== true);
    const mids = streams.map((stream) => String(stream['mid']));
    const dataMids = new Set(streams.filter((stream) => stream['type'] === 'data').map((stream) => String(stream['mid'])));
    if (mids.length === 0) return;
    // the first subscription is a step of the join (the room's audio reaches the phone through it)
    const first = !this.subscribed;
    this.subscribed = true;
    const subscribing = () => this.subscribe(id, mids, dataMids);
    void (first ? this.steps.time('room.subscribe', subscribing) : subscribing()).catch((error: unknown) =>
      log.warn('subscribing to a room feed failed', { feed: id, error: errorMessage(error) }),
    );
  }

  private async subscribe(feedId: string, mids: readonly string[], dataMids: ReadonlySet<string> = new Set()): Promise<void> {
    const session = this.session;
    if (session === undefined || this.leaving) return;
    const handle = await session.attach(PLUGIN);
    const pc = new RTCPeerConnection({ iceServers: [...this.options.iceServers], bundlePolicy: 'max-bundle' });
    this.subscriptions.set(feedId, { feedId, handle, pc });
    pc.onicecandidate = (event) => handle.trickle(event.candidate);
    pc.ontrack = (event) => {
      if (this.options.lowLatency === true) event.receiver.jitterBufferTarget = 0;
      this.options.encoded?.receiver(event.receiver);
      this.events.track(feedId, event.track);
    };
    pc.ondatachannel = (event) => {
      event.channel.onmessage = (message) => {
        if (typeof message.data === 'string') this.events.data?.(feedId, message.data);
      };
    };
    if (dataMids.size > 0) {
      // Janus relays data to a subscriber only once a channel of its own is open (as janus.js does)
      pc.createDataChannel('roomline-receive');
    }
    handle.listen((event) => {
      if (event.kind === 'plugin' && event.jsep?.type === 'offer') {
        // Janus renegotiates when the feed changes (e.g. adds video)
        void this.answer(handle, pc, event.jsep).catch(() => undefined);
      }
    });
    const { jsep } = await handle.request({
      ...this.joinBody('subscriber'),
      streams: mids.map((mid) => ({ feed: Number.isNaN(Number(feedId)) ? feedId : Number(feedId), mid })),
      ...(this.privateId === undefined ? {} : { private_id: this.privateId }),
    });
    if (jsep === undefined) throw new Error('no offer for the subscription');
    await this.answer(handle, pc, jsep);
  }

  private async answer(handle: JanusHandle, pc: RTCPeerConnection, offer: RTCSessionDescriptionInit): Promise<void> {
    await pc.setRemoteDescription(offer);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    await handle.request({ request: 'start' }, { type: 'answer', sdp: pc.localDescription?.sdp ?? '' });
  }

  private dropSubscription(feedId: string): void {
    const subscription = this.subscriptions.get(feedId);
    this.publishers.delete(feedId);
    if (subscription === undefined) return;
    this.subscriptions.delete(feedId);
    subscription.pc.close();
    void subscription.handle.detach();
  }
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
