/**
 * The media path of a fake CPaaS room: two peer connections in the bot page, as a real SDK and its provider's media
 * server have. `sdk` is the SDK's own connection, made with the page's `RTCPeerConnection` exactly as an SDK makes it
 * (so the bot's tap on the SDK's connections, and the room leg's statistics, see it); `server` stands for the
 * provider's media server, made with the browser's own constructor (not the SDK's connection). The remote participant's
 * tracks go server → sdk and reach the bot as remote WebRTC tracks, like an SFU's; what the bot publishes goes sdk →
 * server and is seen by the participant after a real encode and decode. Transceivers are added on the sdk side and
 * negotiated one change at a time; ICE runs over the lab namespace's own addresses.
 */
export class LoopbackMedia {
  readonly sdk: RTCPeerConnection;
  private readonly server: RTCPeerConnection;
  private readonly downlinks = new Map<string, { transceiver: RTCRtpTransceiver; track: MediaStreamTrack }>();
  private readonly uplinks = new Map<string, RTCRtpTransceiver>();
  private negotiation: Promise<void> = Promise.resolve();

  constructor() {
    // An SDK makes its connection with the page's constructor (here, the bot's transparent tap); the server's is the
    // browser's own: the Proxy's prototype is the native one, whose constructor is the native constructor.
    const Native = RTCPeerConnection.prototype.constructor as typeof RTCPeerConnection;
    this.sdk = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.server = new Native({ bundlePolicy: 'max-bundle' });
  }

  /** Sends the remote participant's tracks from the server; resolves with them as the SDK receives them, by name. */
  async receive(tracks: Readonly<Record<string, MediaStreamTrack>>): Promise<Map<string, MediaStreamTrack>> {
    const received = new Map<string, MediaStreamTrack>();
    for (const [name, track] of Object.entries(tracks)) {
      const transceiver = this.sdk.addTransceiver(track.kind, { direction: 'recvonly' });
      this.downlinks.set(name, { transceiver, track });
      received.set(name, transceiver.receiver.track);
    }
    await this.negotiate();
    return received;
  }

  /**
   * The bot publishes `track` as `name` from now on (a new transceiver, negotiated, or the same one with its track
   * replaced), or stops (`null`). Resolves with the track as the server receives it.
   */
  async send(name: string, track: MediaStreamTrack | null): Promise<MediaStreamTrack | undefined> {
    const existing = this.uplinks.get(name);
    if (existing !== undefined) {
      await existing.sender.replaceTrack(track);
      return this.serverTrackOf(existing);
    }
    if (track === null) return undefined;
    const transceiver = this.sdk.addTransceiver(track, { direction: 'sendonly' });
    this.uplinks.set(name, transceiver);
    await this.negotiate();
    return this.serverTrackOf(transceiver);
  }

  close(): void {
    this.sdk.close();
    this.server.close();
  }

  private serverTrackOf(transceiver: RTCRtpTransceiver): MediaStreamTrack | undefined {
    return this.server.getTransceivers().find((t) => t.mid !== null && t.mid === transceiver.mid)?.receiver.track;
  }

  /** One offer/answer round, after the ones before it. */
  private negotiate(): Promise<void> {
    this.negotiation = this.negotiation.then(() => this.offerAnswer());
    return this.negotiation;
  }

  private async offerAnswer(): Promise<void> {
    await this.sdk.setLocalDescription(await this.sdk.createOffer());
    await this.server.setRemoteDescription(await gathered(this.sdk));
    for (const serverSide of this.server.getTransceivers()) {
      const down = [...this.downlinks.values()].find((d) => d.transceiver.mid === serverSide.mid);
      if (down === undefined) {
        serverSide.direction = 'recvonly';
      } else {
        serverSide.direction = 'sendonly';
        if (serverSide.sender.track !== down.track) await serverSide.sender.replaceTrack(down.track);
      }
    }
    await this.server.setLocalDescription(await this.server.createAnswer());
    await this.sdk.setRemoteDescription(await gathered(this.server));
  }
}

/** The connection's local description once its candidates are gathered (at most 3 s). */
async function gathered(pc: RTCPeerConnection): Promise<RTCSessionDescriptionInit> {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3_000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
  const description = pc.localDescription;
  if (description === null) throw new Error('no local description');
  return { type: description.type, sdp: description.sdp };
}
