import type * as OTModule from '@vonage/client-sdk-video';
import type { LegQuality } from '../../contracts/call-record.js';
import { RoomlineError } from '../../contracts/errors.js';
import { vonageRoom, type VonageRoomJoin } from '../../contracts/rooms/vonage.js';
import { errorMessage, log } from '../host.js';
import type { PublishedTracks, RoomAdapter, RoomAdapterFactory, RoomFeed, RoomJoined, RoomParticipant } from './room-adapter.js';
import { SdkRoom, withoutSecret } from './sdk-room.js';
import { withTimeout } from './timeout.js';

type OTError = OTModule.OTError;
type Stream = OTModule.Stream;
type Connection = OTModule.Connection;

/** The Session events this adapter listens to, with the SDK's own event types. */
export interface VonageSessionEvents {
  sessionConnected: OTModule.Event<'sessionConnected', unknown>;
  sessionDisconnected: OTModule.Event<'sessionDisconnected', unknown> & { reason: string };
  sessionReconnecting: OTModule.Event<'sessionReconnecting', unknown>;
  sessionReconnected: OTModule.Event<'sessionReconnected', unknown>;
  connectionCreated: OTModule.Event<'connectionCreated', unknown> & { connection: Connection };
  connectionDestroyed: OTModule.Event<'connectionDestroyed', unknown> & { connection: Connection; reason: string };
  streamCreated: OTModule.Event<'streamCreated', unknown> & { stream: Stream };
  streamDestroyed: OTModule.Event<'streamDestroyed', unknown> & { stream: Stream; reason: string };
}

/** The Publisher events this adapter listens to. */
export interface VonagePublisherEvents {
  streamCreated: OTModule.Event<'streamCreated', unknown> & { stream: Stream };
  streamDestroyed: OTModule.Event<'streamDestroyed', unknown> & { stream: Stream; reason: string };
}

/** The Subscriber events this adapter listens to. */
export interface VonageSubscriberEvents {
  mediaStreamAvailable: OTModule.Event<'mediaStreamAvailable', unknown> & { mediaStream: MediaStream };
  destroyed: OTModule.Event<'destroyed', unknown> & { reason: string };
}

/**
 * The part of @vonage/client-sdk-video this adapter uses, typed by the SDK's own declarations. The SDK satisfies it
 * (checked where the SDK is loaded); the lab's typed fake (lab/fake-sdks/vonage.ts) implements exactly this much.
 */
export interface VonagePublisherApi {
  readonly stream?: Stream | undefined;
  setAudioSource: OTModule.Publisher['setAudioSource'];
  destroy(): unknown;
  on<E extends keyof VonagePublisherEvents>(event: E, handler: (event: VonagePublisherEvents[E]) => void): unknown;
}

export interface VonageSubscriberApi {
  on<E extends keyof VonageSubscriberEvents>(event: E, handler: (event: VonageSubscriberEvents[E]) => void): unknown;
}

export interface VonageSessionApi {
  readonly connection?: Connection | undefined;
  connect(token: string, callback: (error?: OTError) => void): unknown;
  disconnect(): unknown;
  publish(publisher: VonagePublisherApi, callback: (error?: OTError) => void): unknown;
  unpublish(publisher: VonagePublisherApi): void;
  subscribe(stream: Stream, target: undefined, properties: OTModule.SubscriberProperties, callback: (error?: OTError) => void): VonageSubscriberApi;
  on<E extends keyof VonageSessionEvents>(event: E, handler: (event: VonageSessionEvents[E]) => void): unknown;
}

export interface VonageApi {
  initSession(partnerId: string, sessionId: string): VonageSessionApi;
  initPublisher(target: undefined, properties: OTModule.PublisherProperties, callback: (error?: OTError) => void): VonagePublisherApi;
}

/** connect() errors that mean the request itself cannot succeed (bad token or session, limits, terms). */
const REFUSALS = new Set(['OT_AUTHENTICATION_ERROR', 'OT_INVALID_SESSION_ID', 'OT_CONNECTION_LIMIT_EXCEEDED', 'OT_TERMS_OF_SERVICE_FAILURE', 'OT_INVALID_PARAMETER']);

/** How long connecting may take. */
const CONNECT_TIMEOUT_MS = 30_000;
/** How long a publisher may take to be up in the session. */
const PUBLISH_TIMEOUT_MS = 30_000;

export const createVonageRoom: RoomAdapterFactory<'vonage'> = (room, events, options) => new VonageRoom(room, new SdkRoom(events, options));

/** A stream the bot subscribed to (its tracks are the SdkRoom's, under the stream's id). */
interface StreamEntry {
  readonly stream: Stream;
  readonly participantId: string;
}

/**
 * Vonage Video. The bot connects with its token, publishes the SIP side as its publisher (`audioSource`/`videoSource`
 * custom tracks, no default UI) and one more publisher per tile of a split SIP picture, and subscribes to every other
 * stream without UI: each subscriber's tracks go to the bridge (audio mixed, camera composed). A participant is a
 * connection of the session; presence and the tracks are kept by its SdkRoom.
 */
class VonageRoom implements RoomAdapter {
  readonly provider = 'vonage' as const;
  readonly capabilities = vonageRoom.capabilities;
  private session: VonageSessionApi | undefined;
  private sdk: VonageApi | undefined;
  private publisher: VonagePublisherApi | undefined;
  private readonly feeds: VonagePublisherApi[] = [];
  private readonly streams = new Map<string, StreamEntry>();
  private connected = false;

  constructor(private readonly room: VonageRoomJoin, private readonly sdkRoom: SdkRoom) {}

  async join(display: string, tracks: PublishedTracks): Promise<RoomJoined> {
    const module = await this.sdkRoom.loadSdk(() => import('@vonage/client-sdk-video'));
    const sdk: VonageApi = module.default;
    this.sdk = sdk;
    const session = sdk.initSession(this.room.applicationId, this.room.sessionId);
    this.session = session;
    this.listen(session);
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => session.connect(this.room.token, (error) => (error === undefined ? resolve() : reject(error)))),
        CONNECT_TIMEOUT_MS,
        'connecting to the Vonage session',
      );
    } catch (error) {
      throw this.connectFailure(error);
    }
    this.connected = true;
    const selfId = session.connection?.connectionId ?? 'self';
    log.info('connected to the Vonage session', { participants: this.sdkRoom.size });
    const published = this.publish(display, tracks).then((publisher) => {
      this.publisher = publisher;
    });
    published.catch(() => undefined);
    return { selfId, participants: this.participants(), published };
  }

  async replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack): Promise<void> {
    const publisher = this.publisher;
    if (publisher === undefined) throw new RoomlineError('INTERNAL', 'replaceTrack before the publisher is up');
    // a publisher of a custom video track cannot swap it (the SDK takes only camera device ids): the bridge's camera
    // is one stable track, so only audio is ever swapped
    if (kind === 'video') throw new RoomlineError('INTERNAL', 'a Vonage publisher cannot swap its custom video track');
    await publisher.setAudioSource(track);
  }

  /** A tile is one more publisher of the bot's connection, video only, named as the tile. */
  async addFeed(name: string, track: MediaStreamTrack): Promise<RoomFeed> {
    if (!this.connected) throw new RoomlineError('INTERNAL', 'addFeed before join');
    const publisher = await this.startPublisher(name, { videoSource: track, audioSource: false });
    this.feeds.push(publisher);
    return {
      id: publisher.stream?.streamId ?? name,
      close: async () => {
        this.session?.unpublish(publisher);
        publisher.destroy();
      },
    };
  }

  async sendData(): Promise<void> {
    // capabilities.dataMessages is false: a request asking for data messages is refused at the edge
    throw new RoomlineError('INTERNAL', 'data messages are not supported for Vonage sessions');
  }

  async leave(): Promise<void> {
    if (!this.sdkRoom.startLeaving()) return;
    for (const publisher of [...this.feeds, ...(this.publisher === undefined ? [] : [this.publisher])]) {
      try {
        publisher.destroy();
      } catch {
        // already gone
      }
    }
    this.session?.disconnect();
  }

  participants(): RoomParticipant[] {
    return this.sdkRoom.participants();
  }

  stats(): Promise<LegQuality> {
    return this.sdkRoom.stats();
  }

  private async publish(display: string, tracks: PublishedTracks): Promise<VonagePublisherApi> {
    return this.startPublisher(display, {
      audioSource: tracks.audio ?? false,
      videoSource: tracks.video ?? null,
      publishVideo: tracks.video !== undefined,
    });
  }

  /** Makes a publisher of custom tracks and publishes it; resolves once its stream is up in the session. */
  private async startPublisher(name: string, properties: OTModule.PublisherProperties): Promise<VonagePublisherApi> {
    const sdk = this.sdk;
    const session = this.session;
    if (sdk === undefined || session === undefined) throw new RoomlineError('INTERNAL', 'publishing before connect');
    let created: (() => void) | undefined;
    const streamUp = new Promise<void>((resolve) => (created = resolve));
    const publisher = await new Promise<VonagePublisherApi>((resolve, reject) => {
      const made = sdk.initPublisher(
        undefined,
        { insertDefaultUI: false, name: name.slice(0, 64), disableAudioProcessing: true, ...properties },
        (error) => (error === undefined ? resolve(made) : reject(this.publishFailure(error))),
      );
      made.on('streamCreated', () => created?.());
      made.on('streamDestroyed', (event) => {
        if (!this.sdkRoom.leaving) log.warn('a stream of the bot was removed from the Vonage session', { reason: event.reason });
      });
    });
    await withTimeout(
      new Promise<void>((resolve, reject) =>
        session.publish(publisher, (error) => (error === undefined ? resolve() : reject(this.publishFailure(error)))),
      ),
      PUBLISH_TIMEOUT_MS,
      'publishing into the Vonage session',
    );
    await withTimeout(streamUp, PUBLISH_TIMEOUT_MS, 'the published stream to appear in the session');
    return publisher;
  }

  private listen(session: VonageSessionApi): void {
    session.on('connectionCreated', (event) => this.addParticipant(event.connection));
    session.on('connectionDestroyed', (event) => this.removeParticipant(event.connection.connectionId));
    session.on('streamCreated', (event) => this.subscribe(event.stream));
    session.on('streamDestroyed', (event) => this.dropStream(event.stream.streamId));
    session.on('sessionReconnecting', () => this.sdkRoom.reconnecting('the Vonage session is reconnecting'));
    session.on('sessionReconnected', () => log.info('the Vonage session reconnected'));
    session.on('sessionDisconnected', (event) => {
      if (this.connected) this.sdkRoom.lost(`the Vonage session disconnected the bot (${event.reason})`);
    });
  }

  private isSelf(connection: Connection): boolean {
    return connection.connectionId === this.session?.connection?.connectionId;
  }

  private addParticipant(connection: Connection, display?: string): void {
    if (!this.isSelf(connection)) this.sdkRoom.arrive(connection.connectionId, display);
  }

  private removeParticipant(id: string): void {
    if (!this.sdkRoom.isPresent(id)) return;
    for (const [streamId, entry] of this.streams) if (entry.participantId === id) this.dropStream(streamId);
    this.sdkRoom.depart(id);
  }

  /** Subscribes to another client's stream, without UI; its tracks go to the bridge once its media stream is there. */
  private subscribe(stream: Stream): void {
    const session = this.session;
    if (session === undefined || this.sdkRoom.leaving || this.isSelf(stream.connection)) return;
    // a client whose connection events were not seen is present through its stream
    this.addParticipant(stream.connection, stream.name);
    const participantId = stream.connection.connectionId;
    const entry: StreamEntry = { stream, participantId };
    this.streams.set(stream.streamId, entry);
    const subscriber = session.subscribe(
      stream,
      undefined,
      { insertDefaultUI: false, subscribeToAudio: true, subscribeToVideo: this.sdkRoom.receiveVideo && stream.hasVideo },
      (error) => {
        if (error !== undefined) log.warn('subscribing to a Vonage stream failed', { error: `${error.name}: ${error.message}` });
      },
    );
    subscriber.on('mediaStreamAvailable', (event) => {
      if (this.streams.get(stream.streamId) !== entry) return;
      for (const track of event.mediaStream.getTracks()) {
        if (track.kind === 'video' && !this.sdkRoom.receiveVideo) continue;
        this.sdkRoom.trackStarted(participantId, stream.streamId, track, false);
      }
    });
    subscriber.on('destroyed', () => this.dropStream(stream.streamId));
  }

  private dropStream(streamId: string): void {
    const entry = this.streams.get(streamId);
    if (entry === undefined) return;
    this.streams.delete(streamId);
    this.sdkRoom.sourceEnded(entry.participantId, streamId);
  }

  private connectFailure(error: unknown): RoomlineError {
    const name = (error as Partial<OTError> | undefined)?.name;
    const message = errorMessage(error).trim();
    const described = typeof name === 'string' ? (message === '' ? name : `${name}: ${message}`) : message;
    const reason = this.scrub(described).slice(0, 300);
    if (name !== undefined && REFUSALS.has(name)) return new RoomlineError('ROOM_JOIN_FAILED', `Vonage refused the bot: ${reason}`);
    return new RoomlineError('ROOM_UNREACHABLE', `cannot connect to the Vonage session: ${reason}`);
  }

  private publishFailure(error: OTError): RoomlineError {
    return new RoomlineError('ROOM_JOIN_FAILED', `publishing into the Vonage session failed: ${this.scrub(`${error.name}: ${error.message}`).slice(0, 300)}`);
  }

  private scrub(text: string): string {
    return withoutSecret(text, this.room.token);
  }
}
