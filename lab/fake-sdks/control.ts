import { createServer, type Server } from 'node:http';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { analyseTone, type ToneReport } from '../audio-analysis.js';
import type { LabNetns } from '../netns.js';
import { NamespaceEntrance } from '../ns-forward.js';
import { timedRecording } from '../room-person.js';
import { waitUntil } from '../wait.js';
import {
  FAKE_SDK_CONTROL_PORT,
  type FakeCommand,
  type FakeCommandResults,
  type FakeJoin,
  type FakeLabMessage,
  type FakePageMessage,
  type FakeProvider,
  type PublishedVideo,
} from './protocol.js';

/** How long the lab waits for a fake room to answer a command. */
const COMMAND_TIMEOUT_MS = 10_000;

/**
 * One fake room as the lab sees it: what the SDK was given when the bot joined, and the provider's side of the call
 * (the remote participant can leave, the meeting can end; what the participant hears and sees of the bot).
 */
export class FakeRoomHandle {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  constructor(
    readonly join: FakeJoin,
    readonly openedAt: number,
    private readonly socket: WebSocket,
  ) {}

  /** The remote participant leaves the room. */
  async participantLeaves(): Promise<void> {
    await this.command({ kind: 'participant-leaves' });
  }

  /** The meeting ends for the bot (the provider ends its session). */
  async meetingEnds(): Promise<void> {
    await this.command({ kind: 'meeting-ends' });
  }

  /** What the remote participant heard of the bot's microphone since `since` (epoch ms), analysed. */
  async heard(since: number): Promise<ToneReport> {
    return analyseTone(timedRecording(await this.command({ kind: 'heard', since })).pcm);
  }

  /** The video tracks the bot publishes now, as the remote participant sees them. */
  videos(): Promise<readonly PublishedVideo[]> {
    return this.command({ kind: 'videos' });
  }

  /** The SDK calls the bot made, in order. */
  calls(): Promise<readonly string[]> {
    return this.command({ kind: 'calls' });
  }

  /** Settles a command's reply from the page. */
  settle(id: number, result: unknown, error: string | undefined): void {
    const waiting = this.pending.get(id);
    if (waiting === undefined) return;
    this.pending.delete(id);
    if (error === undefined) waiting.resolve(result);
    else waiting.reject(new Error(`the fake ${this.join.provider} room failed: ${error}`));
  }

  /** The page went away: commands still waiting fail. */
  closed(): void {
    for (const waiting of this.pending.values()) waiting.reject(new Error(`the fake ${this.join.provider} room is gone (its page left)`));
    this.pending.clear();
  }

  private command<K extends FakeCommand['kind']>(command: Extract<FakeCommand, { kind: K }>): Promise<FakeCommandResults[K]> {
    const id = this.nextId++;
    const message: FakeLabMessage = { type: 'command', id, command };
    return new Promise<FakeCommandResults[K]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the fake ${this.join.provider} room did not answer "${command.kind}" within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as FakeCommandResults[K]);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.socket.send(JSON.stringify(message));
    });
  }
}

/**
 * The lab's end of the fake SDKs' control channel: a WebSocket server of the host (on a Unix socket), entered from the
 * lab's namespace at `127.0.0.1:8091`, where the bot page's fake SDK connects when the bot joins.
 */
export class FakeSdkControl {
  readonly rooms: FakeRoomHandle[] = [];

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly entrance: NamespaceEntrance,
    private readonly socketPath: string,
  ) {}

  static async start(options: { netns: LabNetns; dir: string }): Promise<FakeSdkControl> {
    const socketPath = join(options.dir, 'fake-sdk-control.sock');
    await rm(socketPath, { force: true });
    const http = createServer((_request, response) => response.writeHead(426).end('WebSocket only'));
    const wss = new WebSocketServer({ server: http });
    await new Promise<void>((resolve, reject) => http.once('error', reject).listen(socketPath, resolve));
    const entrance = await NamespaceEntrance.start(options.netns, options.dir, {
      name: 'fake-sdk-control',
      port: FAKE_SDK_CONTROL_PORT,
      socket: socketPath,
    }).catch(async (error: unknown) => {
      await new Promise((resolve) => http.close(resolve));
      throw error;
    });
    const control = new FakeSdkControl(http, wss, entrance, socketPath);
    wss.on('connection', (socket) => control.accept(socket));
    return control;
  }

  /** The next fake room of `provider` opened at or after `since` (epoch ms). */
  async nextRoom(provider: FakeProvider, options: { since?: number; timeoutMs?: number } = {}): Promise<FakeRoomHandle> {
    const since = options.since ?? 0;
    const find = () => this.rooms.find((r) => r.join.provider === provider && r.openedAt >= since);
    await waitUntil(() => find() !== undefined, { timeoutMs: options.timeoutMs ?? 30_000, what: `a fake ${provider} room` });
    return find()!;
  }

  async stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise((resolve) => this.wss.close(resolve));
    await new Promise((resolve) => this.http.close(resolve));
    await this.entrance.stop();
    await rm(this.socketPath, { force: true });
  }

  private accept(socket: WebSocket): void {
    let room: FakeRoomHandle | undefined;
    socket.on('message', (data) => {
      let message: FakePageMessage;
      try {
        message = JSON.parse(String(data)) as FakePageMessage;
      } catch {
        return;
      }
      if (message.type === 'joined' && room === undefined) {
        room = new FakeRoomHandle(message.join, Date.now(), socket);
        this.rooms.push(room);
      } else if (message.type === 'reply') {
        room?.settle(message.id, message.result, message.error);
      }
    });
    socket.on('close', () => room?.closed());
  }
}
