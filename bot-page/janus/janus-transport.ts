import { JanusError } from './janus-error.js';

/**
 * The WebSocket under a Janus session (janus-client.ts): the `janus-protocol` subprotocol, transactions matched to
 * their answers, the keepalive timer, and the credentials every request but `info` carries.
 */

/** What Janus sends with an SDP (its `jsep` field). */
export type JanusJsep = RTCSessionDescriptionInit;

/** A message from Janus, as far as this client reads it. */
export interface JanusMessage {
  readonly janus: string;
  readonly transaction?: string;
  readonly session_id?: number;
  readonly sender?: number;
  readonly data?: { readonly id?: number; readonly name?: string; readonly version_string?: string };
  readonly plugindata?: { readonly plugin: string; readonly data: Record<string, unknown> };
  readonly jsep?: JanusJsep;
  readonly error?: { readonly code: number; readonly reason: string };
  readonly reason?: string;
  readonly type?: string;
  readonly receiving?: boolean;
  readonly uplink?: boolean;
  readonly lost?: number;
  readonly name?: string;
  readonly version_string?: string;
}

interface Pending {
  readonly resolve: (message: JanusMessage) => void;
  readonly reject: (error: Error) => void;
  /** Resolve on `ack` (for fire-and-forget requests) instead of waiting for the plugin's answer. */
  readonly ackIsEnough: boolean;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** The WebSocket and its transactions: one request, one answer (or its acknowledgement), within a timeout. */
export class JanusTransport {
  onMessage: (message: JanusMessage) => void = () => undefined;
  onClose: (reason: string) => void = () => undefined;
  /** When the last message from Janus arrived (epoch ms). */
  lastReceivedAt = Date.now();
  private readonly pending = new Map<string, Pending>();
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private counter = 0;

  private constructor(
    private readonly ws: WebSocket,
    private readonly auth: Readonly<Record<string, string>>,
  ) {
    ws.onmessage = (event) => this.receive(String(event.data));
    ws.onclose = (event) => this.closed(`WebSocket closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`);
    ws.onerror = () => this.closed('WebSocket error');
  }

  static open(url: string, timeoutMs: number, auth: Readonly<Record<string, string>> = {}): Promise<JanusTransport> {
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, 'janus-protocol');
      } catch (error) {
        reject(new JanusError(`cannot open ${url}: ${String(error)}`, { transport: true, sent: false }));
        return;
      }
      const timer = setTimeout(() => {
        ws.close();
        reject(new JanusError(`no answer from ${url} within ${timeoutMs} ms`, { transport: true, sent: false }));
      }, timeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new JanusTransport(ws, auth));
      };
      ws.onerror = () => {
        clearTimeout(timer);
        reject(new JanusError(`cannot connect to ${url}`, { transport: true, sent: false }));
      };
    });
  }

  startKeepalive(send: () => Promise<unknown>, everyMs: number): void {
    this.keepalive = setInterval(() => void send().catch(() => undefined), everyMs);
  }

  request(message: Record<string, unknown>, ackIsEnough = false, timeoutMs = 10_000): Promise<JanusMessage> {
    if (this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new JanusError('the Janus connection is closed', { transport: true, sent: false }));
    }
    const transaction = `t${++this.counter}${Math.random().toString(36).slice(2, 8)}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new JanusError(`Janus did not answer "${String(message['janus'])}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(transaction, { resolve, reject, ackIsEnough, timer });
      // credentials go with every request but `info`, which Janus answers unauthenticated
      this.ws.send(JSON.stringify({ ...message, ...(message['janus'] === 'info' ? {} : this.auth), transaction }));
    });
  }

  close(): void {
    if (this.keepalive !== undefined) clearInterval(this.keepalive);
    this.ws.onclose = null;
    this.ws.close();
    this.closed('closed by client');
  }

  private receive(text: string): void {
    this.lastReceivedAt = Date.now();
    let message: JanusMessage;
    try {
      message = JSON.parse(text) as JanusMessage;
    } catch {
      return;
    }
    const pending = message.transaction === undefined ? undefined : this.pending.get(message.transaction);
    if (pending !== undefined) {
      if (message.janus === 'ack' && !pending.ackIsEnough) return; // the answer follows as an event
      if (message.janus === 'ack' || message.janus === 'success' || message.janus === 'server_info' || message.janus === 'event') {
        clearTimeout(pending.timer);
        this.pending.delete(message.transaction!);
        if (message.janus === 'event' && pending.ackIsEnough) {
          // an asynchronous answer to a request we only needed acknowledged: it is an ordinary event too
          this.onMessage(message);
        }
        pending.resolve(message);
        return;
      }
      if (message.janus === 'error') {
        clearTimeout(pending.timer);
        this.pending.delete(message.transaction!);
        pending.reject(new JanusError(message.error?.reason ?? 'Janus error', message.error?.code === undefined ? {} : { code: message.error.code }));
        return;
      }
    }
    this.onMessage(message);
  }

  private closed(reason: string): void {
    if (this.keepalive !== undefined) clearInterval(this.keepalive);
    for (const [, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new JanusError(reason, { transport: true }));
    }
    this.pending.clear();
    this.onClose(reason);
  }
}
