/**
 * A small typed client for the Janus WebRTC Server's WebSocket API: sessions, plugin handles, transactions,
 * keepalives and trickle ICE. The bot page uses it for the SIP plugin and the VideoRoom plugin.
 *
 * Why not janus.js: it is a global-scope demo library that owns the PeerConnection (tracks, transceivers, codec
 * preferences) which the bot must control itself to build its media graph; janode is a Node library. What is needed
 * here is only the signalling: a few hundred lines, typed, with every Janus wire name kept inside this folder.
 */

import { JanusError } from './janus-error.js';
import { JanusTransport, type JanusJsep, type JanusMessage } from './janus-transport.js';

export type { JanusJsep } from './janus-transport.js';

/** An event delivered to a plugin handle's listener. */
export type HandleEvent =
  | { readonly kind: 'plugin'; readonly data: Record<string, unknown>; readonly jsep?: JanusJsep }
  | { readonly kind: 'webrtcup' }
  | { readonly kind: 'media'; readonly type: string; readonly receiving: boolean }
  | { readonly kind: 'slowlink'; readonly uplink: boolean; readonly lost: number }
  | { readonly kind: 'hangup'; readonly reason: string }
  | { readonly kind: 'detached' };

/**
 * How often a session sends a keepalive (Janus drops a session after 60 s without one), and how long it may hear
 * nothing at all from Janus before it is declared lost: a connection cut without a FIN shows no other sign. Each
 * keepalive is acknowledged, so a live connection is never silent for longer than a keepalive period and a round trip.
 * The silence is judged only on time the page actually ran: a page whose event loop was held up (a busy 2-core
 * machine) may not have read the acknowledgements waiting for it, so a check that comes late by more than a second
 * judges nothing.
 */
const KEEPALIVE_MS = 4_000;
const SILENCE_LOST_MS = 11_000;

export interface JanusConnectOptions {
  readonly timeoutMs?: number;
  /** The server's Janus API secret (`apisecret` in every request). */
  readonly apiSecret?: string | undefined;
  /** A Janus auth token (`token` in every request). */
  readonly token?: string | undefined;
}

/** One Janus session over one WebSocket. */
export class JanusSession {
  readonly id: number;
  readonly server: string;
  private readonly handles = new Map<number, JanusHandle>();
  private closedListeners: ((reason: string) => void)[] = [];
  private closed = false;

  private constructor(
    private readonly transport: JanusTransport,
    id: number,
    server: string,
  ) {
    this.id = id;
    this.server = server;
    transport.onMessage = (message) => this.dispatch(message);
    transport.onClose = (reason) => this.markClosed(reason);
    let expected = Date.now() + KEEPALIVE_MS;
    transport.startKeepalive(async () => {
      const late = Date.now() - expected;
      expected = Date.now() + KEEPALIVE_MS;
      const silentMs = Date.now() - transport.lastReceivedAt;
      if (late < 1_000 && silentMs > SILENCE_LOST_MS) {
        this.abandon(`nothing heard from Janus for ${silentMs} ms (keepalives unanswered)`);
        return;
      }
      await this.ping(SILENCE_LOST_MS);
    }, KEEPALIVE_MS);
  }

  /**
   * Whether Janus answers a keepalive within `timeoutMs`. A timer that beat a waiting answer in a busy page does not
   * count as silence: anything heard from Janus since the keepalive left does.
   */
  async ping(timeoutMs: number): Promise<boolean> {
    if (this.closed) return false;
    const sentAt = Date.now();
    try {
      await this.transport.request({ janus: 'keepalive', session_id: this.id }, true, timeoutMs);
      return true;
    } catch {
      // let messages already received run their handlers before judging
      await new Promise((resolve) => setTimeout(resolve, 0));
      return !this.closed && this.transport.lastReceivedAt >= sentAt;
    }
  }

  /** Gives the session up without asking Janus (which does not answer): closed, every handle detached. */
  abandon(reason: string): void {
    this.markClosed(reason);
    this.transport.close();
  }

  /**
   * Opens a WebSocket to `url`, reads the server's info and creates a session. `apiSecret` (Janus `api_secret`) and
   * `token` (Janus `token_auth`) are sent with every request but `info`; neither is ever part of an error message.
   */
  static async connect(url: string, options: JanusConnectOptions = {}): Promise<JanusSession> {
    const auth = {
      ...(options.apiSecret === undefined ? {} : { apisecret: options.apiSecret }),
      ...(options.token === undefined ? {} : { token: options.token }),
    };
    const transport = await JanusTransport.open(url, options.timeoutMs ?? 5_000, auth);
    try {
      const info = await transport.request({ janus: 'info' });
      const created = await transport.request({ janus: 'create' });
      const id = created.data?.id;
      if (typeof id !== 'number') throw new JanusError('Janus did not return a session id');
      return new JanusSession(transport, id, `${info.name ?? 'Janus'} ${info.version_string ?? ''}`.trim());
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Milliseconds since anything was last heard from Janus on this session's connection (a keepalive's answer at least). */
  get heardMs(): number {
    return Math.max(0, Date.now() - this.transport.lastReceivedAt);
  }

  onClosed(listener: (reason: string) => void): void {
    this.closedListeners.push(listener);
  }

  async attach(plugin: string): Promise<JanusHandle> {
    const reply = await this.transport.request({ janus: 'attach', plugin, session_id: this.id });
    const handleId = reply.data?.id;
    if (typeof handleId !== 'number') throw new JanusError(`Janus did not attach ${plugin}`);
    const handle = new JanusHandle(this.transport, this.id, handleId, plugin, () => this.handles.delete(handleId));
    this.handles.set(handleId, handle);
    return handle;
  }

  /** Destroys the session (detaching every handle) and closes the socket. Idempotent. */
  async destroy(): Promise<void> {
    if (this.closed) return;
    await this.transport.request({ janus: 'destroy', session_id: this.id }).catch(() => undefined);
    this.markClosed('destroyed');
    this.transport.close();
  }

  private dispatch(message: JanusMessage): void {
    if (message.sender !== undefined) {
      this.handles.get(message.sender)?.deliver(message);
    } else if (message.janus === 'timeout') {
      this.abandon('session timed out');
    }
  }

  /** The session's listeners hear why it closed before its handles hear they are detached (which ends a SIP leg). */
  private markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.closedListeners) listener(reason);
    this.closedListeners = [];
    for (const handle of this.handles.values()) handle.deliver({ janus: 'detached' });
    this.handles.clear();
  }
}

/** A plugin handle: plugin messages, trickle candidates, events. */
export class JanusHandle {
  private listener: ((event: HandleEvent) => void) | undefined;
  private readonly backlog: HandleEvent[] = [];
  private detached = false;

  constructor(
    private readonly transport: JanusTransport,
    private readonly sessionId: number,
    readonly id: number,
    readonly plugin: string,
    private readonly forget: () => void,
  ) {}

  /** Sets the one listener for events that do not answer a pending request; events queued before are replayed. */
  listen(listener: (event: HandleEvent) => void): void {
    this.listener = listener;
    for (const event of this.backlog.splice(0)) listener(event);
  }

  /**
   * Sends a plugin message and resolves with the plugin's answer (synchronous `success` or the first asynchronous
   * `event` of the transaction). A plugin-level error (`error_code`) rejects with a JanusError carrying that code.
   */
  async request(
    body: Record<string, unknown>,
    jsep?: JanusJsep,
    timeoutMs = 10_000,
  ): Promise<{ data: Record<string, unknown>; jsep?: JanusJsep }> {
    const reply = await this.transport.request(
      {
        janus: 'message',
        session_id: this.sessionId,
        handle_id: this.id,
        body,
        ...(jsep === undefined ? {} : { jsep }),
      },
      false,
      timeoutMs,
    );
    const data = reply.plugindata?.data ?? {};
    const errorCode = data['error_code'];
    if (typeof errorCode === 'number') {
      throw new JanusError(String(data['error'] ?? `${this.plugin} error ${errorCode}`), { code: errorCode, plugin: true });
    }
    return { data, ...(reply.jsep === undefined ? {} : { jsep: reply.jsep }) };
  }

  /** Sends a plugin message and resolves once Janus acknowledges it; the answer arrives as events. */
  async send(body: Record<string, unknown>, jsep?: JanusJsep): Promise<void> {
    await this.transport.request(
      {
        janus: 'message',
        session_id: this.sessionId,
        handle_id: this.id,
        body,
        ...(jsep === undefined ? {} : { jsep }),
      },
      true,
    );
  }

  /** Trickles one ICE candidate, or `null` when gathering completed. Failures only mean the handle is gone. */
  trickle(candidate: RTCIceCandidate | null): void {
    const payload =
      candidate === null
        ? { completed: true }
        : { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex };
    void this.transport
      .request({ janus: 'trickle', session_id: this.sessionId, handle_id: this.id, candidate: payload }, true)
      .catch(() => undefined);
  }

  /** Tears down the handle's PeerConnection on the Janus side (the handle stays attached). */
  async hangupMedia(): Promise<void> {
    if (this.detached) return;
    await this.transport
      .request({ janus: 'hangup', session_id: this.sessionId, handle_id: this.id }, true)
      .catch(() => undefined);
  }

  async detach(): Promise<void> {
    if (this.detached) return;
    this.detached = true;
    this.forget();
    await this.transport
      .request({ janus: 'detach', session_id: this.sessionId, handle_id: this.id })
      .catch(() => undefined);
  }

  /** Routes a message addressed to this handle. */
  deliver(message: JanusMessage): void {
    const event = toHandleEvent(message);
    if (event === undefined) return;
    if (event.kind === 'detached') this.detached = true;
    if (this.listener === undefined) this.backlog.push(event);
    else this.listener(event);
  }
}

function toHandleEvent(message: JanusMessage): HandleEvent | undefined {
  switch (message.janus) {
    case 'event':
      return {
        kind: 'plugin',
        data: message.plugindata?.data ?? {},
        ...(message.jsep === undefined ? {} : { jsep: message.jsep }),
      };
    case 'webrtcup':
      return { kind: 'webrtcup' };
    case 'media':
      return { kind: 'media', type: message.type ?? '', receiving: message.receiving === true };
    case 'slowlink':
      return { kind: 'slowlink', uplink: message.uplink === true, lost: message.lost ?? 0 };
    case 'hangup':
      return { kind: 'hangup', reason: message.reason ?? '' };
    case 'detached':
      return { kind: 'detached' };
    default:
      return undefined;
  }
}
