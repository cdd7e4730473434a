import type * as OTModule from '@vonage/client-sdk-video';
import type {
  VonageApi,
  VonagePublisherApi,
  VonagePublisherEvents,
  VonageSessionApi,
  VonageSessionEvents,
  VonageSubscriberApi,
  VonageSubscriberEvents,
} from '../../bot-page/rooms/vonage.js';
import { EventHandlers } from './event-handlers.js';
import { FakeRoom } from './fake-room.js';
import { FAKE_PARTICIPANT } from './protocol.js';

/**
 * A typed fake of @vonage/client-sdk-video, as far as Roomline's Vonage adapter uses it (`VonageApi`, typed by the
 * SDK's own declarations), for the lab's test build of the bot page (never shipped). Vonage's servers cannot be reached
 * here, so this stands in for them, with the events in the order the SDK's code and documentation give:
 * - `connect()`: `sessionConnected` (the completion handler runs with it), then `connectionCreated` for every
 *   connection, the bot's own included, then `streamCreated` for every stream of another client;
 * - `subscribe()`: the subscriber's `mediaStreamAvailable` (its MediaStream), since there is no default UI;
 * - `publish()`: the publisher's `streamCreated` once its stream is in the session;
 * - a client who leaves: `streamDestroyed` for its streams, then `connectionDestroyed`;
 * - the bot disconnected by the service (a moderator's forceDisconnect): `sessionDisconnected` ("forceDisconnected").
 * The other client is the lab's fake participant (a tone, a coloured camera), driven by the lab.
 */

/** An event object as the SDK builds one. */
function otEvent<T extends string>(type: T, target: unknown): OTModule.Event<T, unknown> {
  let prevented = false;
  return {
    type,
    cancelable: false,
    target,
    isDefaultPrevented: () => prevented,
    preventDefault: () => {
      prevented = true;
    },
  };
}

class Emitter<Events> {
  private readonly handlers = new EventHandlers<Events>();

  on<E extends keyof Events>(event: E, handler: (event: Events[E]) => void): this {
    this.handlers.add(event, handler);
    return this;
  }

  protected emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    this.handlers.emit(event, payload);
  }
}

let counter = 0;
const id = (prefix: string) => `${prefix}-${++counter}`;

class FakePublisher extends Emitter<VonagePublisherEvents> implements VonagePublisherApi {
  stream: OTModule.Stream | undefined;
  session: FakeSession | undefined;
  private destroyed = false;

  constructor(readonly properties: OTModule.PublisherProperties) {
    super();
  }

  get name(): string {
    return this.properties.name ?? '';
  }

  get audio(): MediaStreamTrack | undefined {
    const source = this.properties.audioSource;
    return source instanceof MediaStreamTrack ? source : undefined;
  }

  get video(): MediaStreamTrack | undefined {
    const source = this.properties.videoSource;
    return source instanceof MediaStreamTrack ? source : undefined;
  }

  async setAudioSource(audioSource: string | MediaStreamTrack): Promise<undefined> {
    if (!(audioSource instanceof MediaStreamTrack)) throw new Error('this fake takes MediaStreamTrack audio sources only');
    this.session?.room?.call(`setAudioSource ${this.name}`);
    this.properties.audioSource = audioSource;
    if (this.stream !== undefined) this.session?.room?.publishAudio(audioSource);
    return undefined;
  }

  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.session?.room?.call(`destroy publisher ${this.name}`);
    this.session?.unpublish(this);
    return this;
  }

  /** The publisher's stream is up in the session. */
  streamUp(stream: OTModule.Stream): void {
    this.stream = stream;
    this.emit('streamCreated', { ...otEvent('streamCreated', this), stream });
  }

  streamDown(reason: string): void {
    const stream = this.stream;
    if (stream === undefined) return;
    this.stream = undefined;
    this.emit('streamDestroyed', { ...otEvent('streamDestroyed', this), stream, reason });
  }
}

class FakeSubscriber extends Emitter<VonageSubscriberEvents> implements VonageSubscriberApi {
  /** Its media stream is there (no default UI: the app takes the MediaStream). */
  available(mediaStream: MediaStream): void {
    this.emit('mediaStreamAvailable', { ...otEvent('mediaStreamAvailable', this), mediaStream });
  }

  gone(reason: string): void {
    this.emit('destroyed', { ...otEvent('destroyed', this), reason });
  }
}

class FakeSession extends Emitter<VonageSessionEvents> implements VonageSessionApi {
  connection: OTModule.Connection | undefined;
  room: FakeRoom | undefined;
  private connected = false;
  private readonly publishers = new Set<FakePublisher>();
  private remote: { connection: OTModule.Connection; stream: OTModule.Stream; subscribers: FakeSubscriber[] } | undefined;

  constructor(
    private readonly partnerId: string,
    private readonly sessionId: string,
  ) {
    super();
  }

  connect(token: string, callback: (error?: OTModule.OTError) => void): this {
    void (async () => {
      let room: FakeRoom;
      try {
        room = await FakeRoom.open(
          { provider: 'vonage', room: `${this.partnerId}/${this.sessionId}`, token, display: '' },
          { participantLeaves: () => this.participantLeaves(), meetingEnds: () => this.meetingEnds() },
        );
      } catch (error) {
        callback({ name: 'OT_CONNECT_FAILED', message: error instanceof Error ? error.message : String(error) });
        return;
      }
      this.room = room;
      room.call('initSession');
      room.call('connect');
      const own: OTModule.Connection = { connectionId: id('bot-connection'), creationTime: Date.now(), data: '' };
      this.connection = own;
      this.connected = true;
      this.emit('sessionConnected', otEvent('sessionConnected', this));
      callback();
      const connection: OTModule.Connection = { connectionId: id('alice-connection'), creationTime: Date.now(), data: '' };
      const stream = streamOf(connection, FAKE_PARTICIPANT.display, true);
      this.remote = { connection, stream, subscribers: [] };
      this.emit('connectionCreated', { ...otEvent('connectionCreated', this), connection: own });
      this.emit('connectionCreated', { ...otEvent('connectionCreated', this), connection });
      this.emit('streamCreated', { ...otEvent('streamCreated', this), stream });
    })();
    return this;
  }

  disconnect(): void {
    if (!this.connected) return;
    this.room?.call('disconnect');
    this.connected = false;
    this.room?.close();
    for (const publisher of this.publishers) publisher.streamDown('clientDisconnected');
    this.emit('sessionDisconnected', { ...otEvent('sessionDisconnected', this), reason: 'clientDisconnected' });
  }

  publish(publisher: VonagePublisherApi, callback: (error?: OTModule.OTError) => void): this {
    if (!(publisher instanceof FakePublisher)) throw new Error('publish: not a publisher of this SDK');
    if (!this.connected || this.connection === undefined) {
      setTimeout(() => callback({ name: 'OT_NOT_CONNECTED', message: 'publish before connect' }), 0);
      return this;
    }
    this.room?.call(`publish ${publisher.name}`);
    const connection = this.connection;
    setTimeout(() => {
      publisher.session = this;
      this.publishers.add(publisher);
      const stream = streamOf(connection, publisher.name, publisher.video !== undefined);
      if (publisher.audio !== undefined) this.room?.publishAudio(publisher.audio);
      if (publisher.video !== undefined) this.room?.publishVideo(publisher.name, publisher.video);
      callback();
      publisher.streamUp(stream);
    }, 0);
    return this;
  }

  unpublish(publisher: VonagePublisherApi): void {
    if (!(publisher instanceof FakePublisher) || !this.publishers.delete(publisher)) return;
    this.room?.call(`unpublish ${publisher.name}`);
    this.room?.publishVideo(publisher.name, undefined);
    publisher.streamDown('unpublished');
  }

  subscribe(
    stream: OTModule.Stream,
    _target: undefined,
    properties: OTModule.SubscriberProperties,
    callback: (error?: OTModule.OTError) => void,
  ): VonageSubscriberApi {
    const subscriber = new FakeSubscriber();
    const remote = this.remote;
    this.room?.call(`subscribe insertDefaultUI=${String(properties.insertDefaultUI)} video=${String(properties.subscribeToVideo)}`);
    setTimeout(() => {
      if (remote === undefined || remote.stream.streamId !== stream.streamId || this.room === undefined) {
        callback({ name: 'OT_STREAM_NOT_FOUND', message: 'the stream is gone' });
        return;
      }
      remote.subscribers.push(subscriber);
      callback();
      const tracks = [this.room.voice, ...(properties.subscribeToVideo === true ? [this.room.camera] : [])];
      subscriber.available(new MediaStream(tracks));
    }, 0);
    return subscriber;
  }

  private participantLeaves(): void {
    const remote = this.remote;
    if (remote === undefined) return;
    this.remote = undefined;
    this.emit('streamDestroyed', { ...otEvent('streamDestroyed', this), stream: remote.stream, reason: 'clientDisconnected' });
    // the default behaviour of streamDestroyed: the stream's subscribers are destroyed
    for (const subscriber of remote.subscribers) subscriber.gone('streamDestroyed');
    this.emit('connectionDestroyed', { ...otEvent('connectionDestroyed', this), connection: remote.connection, reason: 'clientDisconnected' });
  }

  private meetingEnds(): void {
    if (!this.connected) return;
    this.connected = false;
    for (const subscriber of this.remote?.subscribers ?? []) subscriber.gone('sessionDisconnected');
    this.emit('sessionDisconnected', { ...otEvent('sessionDisconnected', this), reason: 'forceDisconnected' });
  }
}

/** A stream as the SDK describes one. */
function streamOf(connection: OTModule.Connection, name: string, hasVideo: boolean): OTModule.Stream {
  return {
    connection,
    creationTime: Date.now(),
    frameRate: 30,
    hasAudio: true,
    hasCaptions: false,
    hasVideo,
    initials: '',
    name,
    streamId: id('stream'),
    videoDimensions: { width: 640, height: 480 },
    videoType: hasVideo ? 'custom' : undefined,
  };
}

let current: FakeSession | undefined;

const OT = {
  initSession: (partnerId: string, sessionId: string) => {
    current = new FakeSession(partnerId, sessionId);
    return current;
  },
  initPublisher: (_target: undefined, properties: OTModule.PublisherProperties, callback: (error?: OTModule.OTError) => void) => {
    const publisher = new FakePublisher({ ...properties });
    current?.room?.call(`initPublisher ${properties.name ?? ''} insertDefaultUI=${String(properties.insertDefaultUI)} audio=${properties.audioSource instanceof MediaStreamTrack} video=${properties.videoSource instanceof MediaStreamTrack}`);
    setTimeout(() => callback(), 0);
    return publisher;
  },
} satisfies VonageApi;

export default OT;
