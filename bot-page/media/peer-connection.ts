/**
 * The browser's own RTCPeerConnection for the bridge's connections. In page mode the global one is wrapped for the
 * app (to see what the app receives); the bridge's own SIP leg must not be seen as the app's.
 */
let native: typeof RTCPeerConnection = globalThis.RTCPeerConnection;

/** Remembers the browser's own constructor before page mode wraps the global one. */
export function keepNativePeerConnection(constructor: typeof RTCPeerConnection): void {
  native = constructor;
}

/** A peer connection of the bridge itself (never one of the app's). */
export function bridgePeerConnection(configuration: RTCConfiguration): RTCPeerConnection {
  return new native(configuration);
}
