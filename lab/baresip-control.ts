import { connect, type Socket } from 'node:net';

/** A baresip event from its TCP control interface (ctrl_tcp), e.g. CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED. */
export interface PhoneEvent {
  readonly type: string;
  readonly class?: string;
  readonly accountaor?: string;
  readonly peeruri?: string;
  readonly id?: string;
  readonly param?: string;
  /** Host time the event arrived (epoch ms). */
  readonly receivedAt: number;
}

/**
 * One connection to baresip's ctrl_tcp: JSON in netstrings, commands answered by a response with the command's token,
 * events pushed as they happen (handed to `onEvent`).
 */
export class BaresipControl {
  private socket: Socket | undefined;
  private buffer = '';
  private tokens = 0;
  private readonly pending = new Map<string, (response: { ok: boolean; data?: string }) => void>();

  constructor(private readonly onEvent: (event: PhoneEvent) => void) {}

  /** Connects to ctrl_tcp on the host's loopback at `port`; false when nothing accepts there. */
  connect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', () => resolve(false));
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        socket.on('error', () => undefined);
        socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('utf8')));
        socket.once('close', () => {
          if (this.socket === socket) this.socket = undefined;
        });
        this.buffer = '';
        this.socket = socket;
        resolve(true);
      });
    });
  }

  /** Sends a ctrl_tcp command (e.g. `hangup`) and resolves with baresip's response. */
  command(command: string, params = '', timeoutMs = 5_000): Promise<{ ok: boolean; data?: string }> {
    const socket = this.socket;
    if (socket === undefined) return Promise.reject(new Error('baresip control is not connected'));
    const token = `t${++this.tokens}`;
    const json = JSON.stringify({ command, params, token });
    const bytes = Buffer.byteLength(json);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip did not answer ${command}`));
      }, timeoutMs);
      this.pending.set(token, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      socket.write(`${bytes}:${json},`);
    });
  }

  /** Drops the connection. */
  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private onData(text: string): void {
    this.buffer += text;
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffer.slice(0, colon));
      if (this.buffer.length < colon + 1 + length + 1) return;
      const payload = this.buffer.slice(colon + 1, colon + 1 + length);
      this.buffer = this.buffer.slice(colon + 1 + length + 1);
      this.onMessage(payload);
    }
  }

  private onMessage(payload: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(payload) as Record<string, unknown>;
    } catch {
      return;
    }
    if (message['response'] === true) {
      const token = String(message['token'] ?? '');
      this.pending.get(token)?.({ ok: message['ok'] === true, data: String(message['data'] ?? '') });
      this.pending.delete(token);
      return;
    }
    if (message['event'] === true) {
      this.onEvent({
        type: String(message['type']),
        class: message['class'] as string | undefined,
        accountaor: message['accountaor'] as string | undefined,
        peeruri: message['peeruri'] as string | undefined,
        id: message['id'] as string | undefined,
        param: message['param'] as string | undefined,
        receivedAt: Date.now(),
      });
    }
  }
}
