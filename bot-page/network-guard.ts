/**
 * The bot page's own guard on WebSockets: a connection opens only to an origin the current call allows (the Janus
 * node of the SIP leg, the origins the room's provider declares). HTTP requests are already limited by the worker's
 * request interception, and every connection, WebSockets included, goes through the worker's egress proxy, which a
 * compromised page cannot skip; this guard is the first line, with a clear error where a provider's SDK or our own
 * code would reach elsewhere.
 */
const allowed = new Set<string>();

/** Adds origins (e.g. `wss://janus.example.com`) the page may open WebSockets to. */
export function allowWebSocketOrigins(origins: Iterable<string>): void {
  for (const origin of origins) allowed.add(new URL(origin).origin);
}

/** Replaces `WebSocket` with one that refuses origins not allowed; call once, before any other code runs. */
export function installWebSocketGuard(): void {
  const Native = globalThis.WebSocket;
  class GuardedWebSocket extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      const origin = new URL(String(url), globalThis.location?.href).origin;
      if (!allowed.has(origin)) throw new DOMException(`a WebSocket to ${origin} is not allowed for this call`, 'SecurityError');
      super(url, protocols);
    }
  }
  Object.defineProperty(globalThis, 'WebSocket', { value: GuardedWebSocket, writable: false, configurable: false });
}
