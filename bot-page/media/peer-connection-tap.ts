/**
 * The peer connections a provider's SDK makes in this page, seen without touching them. A CPaaS SDK keeps its
 * connections to itself, yet their statistics are the room leg's quality: the global `RTCPeerConnection` is replaced by
 * a transparent Proxy (`instanceof`, statics and the SDK's own configuration untouched) that remembers every
 * connection made from then on. Install it before the SDK is loaded. The bridge's own connections (the SIP leg) use the
 * browser's constructor kept in media/peer-connection.ts and are never seen here.
 */
export interface PeerConnectionTap {
  /** The connections made since the tap was installed that are not closed. */
  connections(): RTCPeerConnection[];
}

interface TapState {
  readonly seen: Set<RTCPeerConnection>;
  lowLatency: boolean;
}

let state: TapState | undefined;

/**
 * Installs the tap in this page (once; later calls share it). With `lowLatency`, every track the SDK receives gets a
 * minimal jitter buffer target, as the bridge's own connections do: the far ends buffer.
 */
export function tapPeerConnections(options: { lowLatency?: boolean } = {}): PeerConnectionTap {
  if (state === undefined) {
    const tapped: TapState = { seen: new Set(), lowLatency: false };
    const Native = globalThis.RTCPeerConnection;
    const Wrapped = new Proxy(Native, {
      construct(target, args: unknown[], newTarget: unknown) {
        const pc = Reflect.construct(target, args, newTarget as typeof Native) as RTCPeerConnection;
        tapped.seen.add(pc);
        pc.addEventListener('track', (event) => {
          if (tapped.lowLatency) event.receiver.jitterBufferTarget = 0;
        });
        return pc;
      },
    });
    Object.defineProperty(globalThis, 'RTCPeerConnection', { value: Wrapped, configurable: true, writable: true });
    state = tapped;
  }
  const tapped = state;
  if (options.lowLatency === true) tapped.lowLatency = true;
  return {
    connections() {
      for (const pc of tapped.seen) if (pc.signalingState === 'closed') tapped.seen.delete(pc);
      return [...tapped.seen];
    },
  };
}
