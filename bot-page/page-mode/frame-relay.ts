import type { LegQuality } from '../../contracts/call-record.js';
import { bridgePeerConnection } from '../media/peer-connection.js';
import { log } from '../host.js';
import { playMuted } from '../media/play-muted.js';
import type { MediaHub } from './media-hub.js';

/**
 * Page mode across frames. An app whose media code runs in a cross-origin frame (an embedded meeting widget) cannot
 * be handed the top frame's tracks, nor can the top frame see its connections: a MediaStreamTrack does not cross a
 * frame boundary. So each such frame relays over a peer connection of its own with the top frame, inside the same
 * browser: the top frame sends it the bridge's microphone and camera, the frame sends back every remote track its app
 * receives (one stream per participant key) and, every two seconds, its connections' statistics. Signalling is
 * postMessage between the two windows, tagged so that nothing else is taken for it.
 */
const TAG = '__roomlineFrameRelay';
/** How often a frame reports its app's connection statistics to the top frame. */
const STATS_MS = 2_000;

type RelayMessage =
  | { readonly [TAG]: 1; readonly kind: 'offer' | 'answer'; readonly sdp: string }
  /** A local ICE candidate, trickled as gathered (never waited for: a loaded machine gathers slowly). */
  | { readonly [TAG]: 1; readonly kind: 'candidate'; readonly candidate: RTCIceCandidateInit }
  | { readonly [TAG]: 1; readonly kind: 'stats'; readonly leg: LegQuality }
  /** The frame's end of the relay changed state (logged by the top frame: a frame may have no way to the worker). */
  | { readonly [TAG]: 1; readonly kind: 'state'; readonly state: string }
  /** The track of the m-line `mid` has ended in the frame. */
  | { readonly [TAG]: 1; readonly kind: 'ended'; readonly mid: string };

function relayMessage(data: unknown): RelayMessage | undefined {
  return typeof data === 'object' && data !== null && (data as Record<string, unknown>)[TAG] === 1 ? (data as RelayMessage) : undefined;
}

/** Sets `description` as the local one and returns its SDP (candidates follow by trickle). */
async function localSdp(pc: RTCPeerConnection, description: RTCSessionDescriptionInit): Promise<string> {
  await pc.setLocalDescription(description);
  return pc.localDescription?.sdp ?? '';
}

/** Sends each ICE candidate `pc` gathers to `peer`. */
function trickle(pc: RTCPeerConnection, peer: () => Window | null): void {
  pc.addEventListener('icecandidate', (event) => {
    if (event.candidate === null) return;
    peer()?.postMessage({ [TAG]: 1, kind: 'candidate', candidate: event.candidate.toJSON() } satisfies RelayMessage, '*');
  });
}

/** Plays a remote track muted, once the document has a body. */
function playWhenReady(track: MediaStreamTrack): void {
  if (document.body === null) addEventListener('DOMContentLoaded', () => playMuted(track), { once: true });
  else playMuted(track);
}

/** Whether `source` is one of this window's descendant frames. */
function isDescendant(source: MessageEventSource | null): boolean {
  const search = (frames: Window): boolean => {
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i];
      if (frame === undefined) continue;
      if (frame === source || search(frame)) return true;
    }
    return false;
  };
  return source !== null && search(window);
}

/** Top frame: answers every descendant frame that relays, and hands its tracks and statistics to the hub. */
export function serveFrameRelays(hub: MediaHub): void {
  /** Each relay's signalling runs in order: a candidate waits for the offer before it. */
  const relays = new Map<MessageEventSource, { pc: RTCPeerConnection; id: number; stats?: LegQuality; ops: Promise<void> }>();
  let nextId = 1;
  addEventListener('message', (event) => {
    const message = relayMessage(event.data);
    if (message === undefined || event.source === null || !isDescendant(event.source)) return;
    const source = event.source as Window;
    let relay = relays.get(event.source);
    if (relay === undefined) {
      const id = nextId++;
      const pc = bridgePeerConnection({});
      pc.addEventListener('connectionstatechange', () => log.debug('page mode: frame relay', { frame: id, state: pc.connectionState }));
      trickle(pc, () => source);
      relay = { pc, id, ops: Promise.resolve() };
      const current = relay;
      relays.set(event.source, relay);
      log.debug('page mode: a frame relays its media', { frame: id });
      hub.setExtraLeg(`frame-${id}`, () => (pc.signalingState === 'closed' ? undefined : current.stats));
      pc.addEventListener('track', (trackEvent) => {
        const stream = trackEvent.streams[0]?.id ?? trackEvent.track.id;
        log.debug('page mode: a relayed track', { frame: id, kind: trackEvent.track.kind, stream });
        hub.capture({ key: `frame-${id}/${stream}`, track: trackEvent.track, connection: pc });
      });
    }
    const { pc } = relay;
    const current = relay;
    const inOrder = (op: () => Promise<void>) => {
      current.ops = current.ops.then(op).catch((error: unknown) => log.warn('page mode: relaying a frame failed', { error: String(error) }));
    };
    switch (message.kind) {
      case 'offer':
        inOrder(async () => {
          await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
          // the frame's first audio and video m-lines receive the bridge's microphone and camera
          const stable = hub.stableTracks();
          for (const kind of ['audio', 'video'] as const) {
            const transceiver = pc.getTransceivers().find((t) => t.receiver.track.kind === kind);
            if (transceiver === undefined || transceiver.sender.track !== null) continue;
            transceiver.direction = 'sendonly';
            await transceiver.sender.replaceTrack(stable[kind]);
          }
          const sdp = await localSdp(pc, await pc.createAnswer());
          source.postMessage({ [TAG]: 1, kind: 'answer', sdp } satisfies RelayMessage, '*');
        });
        break;
      case 'candidate':
        inOrder(() => pc.addIceCandidate(message.candidate));
        break;
      case 'stats':
        relay.stats = message.leg;
        break;
      case 'state':
        log.debug('page mode: the frame\'s end of its relay', { frame: relay.id, state: String(message.state).slice(0, 32) });
        break;
      case 'ended':
        // the frame's app lost that track: end ours of it too (the m-line's mid is the same at both ends)
        pc.getTransceivers().find((t) => t.mid === message.mid)?.receiver.track.stop();
        break;
      case 'answer':
        break;
    }
  });
}

/**
 * A frame below the top (cross-origin or not): relays its app's media to the top frame from the first time the app
 * asks for media or makes a connection.
 */
export function relayToTop(hub: MediaHub): void {
  let pc: RTCPeerConnection | undefined;
  let negotiating: Promise<void> = Promise.resolve();
  let answered: ((sdp: string) => void) | undefined;
  const senders = new Map<string, { stream: MediaStream; senders: RTCRtpSender[] }>();

  addEventListener('message', (event) => {
    const message = relayMessage(event.data);
    if (message === undefined || event.source !== window.top) return;
    if (message.kind === 'answer') {
      answered?.(message.sdp);
      answered = undefined;
    } else if (message.kind === 'candidate') {
      // after the answer they belong to (negotiations run in order)
      const candidate = message.candidate;
      negotiating = negotiating.then(() => pc?.addIceCandidate(candidate)).catch(() => undefined);
    }
  });

  const negotiate = (): void => {
    negotiating = negotiating.then(async () => {
      if (pc === undefined || pc.signalingState === 'closed') return;
      const sdp = await localSdp(pc, await pc.createOffer());
      const answer = new Promise<string>((resolve) => (answered = resolve));
      window.top?.postMessage({ [TAG]: 1, kind: 'offer', sdp } satisfies RelayMessage, '*');
      await pc.setRemoteDescription({ type: 'answer', sdp: await answer });
    }).catch((error: unknown) => log.warn('page mode: relaying a frame\'s media failed', { error: String(error) }));
  };

  const start = (): RTCPeerConnection => {
    if (pc !== undefined) return pc;
    const relay = bridgePeerConnection({});
    relay.addEventListener('connectionstatechange', () =>
      window.top?.postMessage({ [TAG]: 1, kind: 'state', state: relay.connectionState } satisfies RelayMessage, '*'),
    );
    trickle(relay, () => window.top);
    pc = relay;
    relay.addTransceiver('audio', { direction: 'recvonly' });
    relay.addTransceiver('video', { direction: 'recvonly' });
    relay.addEventListener('track', (event) => {
      if (event.track.kind === 'audio') {
        // WebAudio reads a remote track only while a media element plays it
        playWhenReady(event.track);
        hub.setAudio(event.track);
      } else {
        hub.setVideo(event.track);
      }
    });
    setInterval(() => {
      void hub.stats().then((leg) => window.top?.postMessage({ [TAG]: 1, kind: 'stats', leg } satisfies RelayMessage, '*'));
    }, STATS_MS);
    negotiate();
    return relay;
  };

  hub.onFirstUse(() => void start());
  hub.listen({
    track: (captured) => {
      const relay = start();
      // a remote track is decoded only while something plays it, relaying included
      if (captured.track.kind === 'audio') playWhenReady(captured.track);
      let entry = senders.get(captured.key);
      if (entry === undefined) {
        entry = { stream: new MediaStream(), senders: [] };
        senders.set(captured.key, entry);
      }
      // a new m-line of its own: addTrack would reuse the m-line receiving the bridge's microphone or camera
      entry.senders.push(relay.addTransceiver(captured.track, { direction: 'sendonly', streams: [entry.stream] }).sender);
      negotiate();
      const ended = setInterval(() => {
        if (captured.track.readyState !== 'ended' && captured.connection.signalingState !== 'closed') return;
        clearInterval(ended);
        const sender = relay.getSenders().find((s) => s.track === captured.track);
        const mid = relay.getTransceivers().find((t) => t.sender === sender)?.mid;
        if (mid !== null && mid !== undefined) {
          window.top?.postMessage({ [TAG]: 1, kind: 'ended', mid } satisfies RelayMessage, '*');
        }
      }, 500);
    },
  });
}
