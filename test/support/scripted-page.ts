import { RoomlineError } from '../../contracts/errors.js';
import type { PageCommand, PageCommandResults, PageCommandType, PageEvent, PageEventOf, PageEventType } from '../../contracts/page-rpc.js';
import type { CallPage } from '../../worker/call-session-options.js';

type Reply<T extends PageCommandType> =
  | { readonly kind: 'ok'; readonly result: PageCommandResults[T] }
  | { readonly kind: 'failed'; readonly error: RoomlineError };

/**
 * A scripted bot page for tests of the call session next to it: answers each command as the test says (at once, late,
 * with a failure, or never) and lets the test send the page's events. It keeps the commands it received, in order.
 * The real page, with a real Chromium, Janus and SIP peer, is exercised by the end-to-end tests.
 */
export class ScriptedPage implements CallPage {
  readonly commands: { readonly type: PageCommandType; readonly at: number }[] = [];
  private readonly listeners = new Map<PageEventType, Set<(event: PageEvent) => void>>();
  private readonly unresponsive: ((reason: string) => void)[] = [];
  /** How the page answers `dial`: after `delayMs`, this reply (or no reply: the command times out). */
  dial: { delayMs: number; reply: Reply<'dial'> | 'no-reply' } = { delayMs: 0, reply: { kind: 'ok', result: { accepted: true } } };
  /** Whether Janus confirms a hangup (the SIP leg ends at once), or the page never answers it. */
  hangup: 'confirmed' | 'no-reply' = 'confirmed';

  on<T extends PageEventType>(type: T, listener: (event: PageEventOf<T>) => void): () => void {
    const set = this.listeners.get(type) ?? new Set();
    this.listeners.set(type, set);
    const stored = listener as unknown as (event: PageEvent) => void;
    set.add(stored);
    return () => set.delete(stored);
  }

  onUnresponsive(listener: (reason: string) => void): void {
    this.unresponsive.push(listener);
  }

  /** The page sends an event. */
  emit(event: PageEvent): void {
    for (const listener of this.listeners.get(event.type) ?? []) listener(event);
  }

  async send<T extends PageCommandType>(command: Extract<PageCommand, { type: T }>, timeoutMs?: number): Promise<PageCommandResults[T]> {
    const outcome = await this.request(command, timeoutMs);
    if (outcome.kind === 'failed') throw outcome.error;
    return outcome.result;
  }

  async request<T extends PageCommandType>(command: Extract<PageCommand, { type: T }>, timeoutMs = 2_000): Promise<Reply<T>> {
    this.commands.push({ type: command.type, at: Date.now() });
    const reply = await this.answer(command.type, timeoutMs);
    return reply as Reply<T>;
  }

  /** Whether the page received a command of this type. */
  received(type: PageCommandType): boolean {
    return this.commands.some((c) => c.type === type);
  }

  private async answer(type: PageCommandType, timeoutMs: number): Promise<Reply<PageCommandType>> {
    switch (type) {
      case 'join-room':
        return { kind: 'ok', result: { selfId: 'bot', participants: [{ id: 'alice', display: 'Alice' }] } };
      case 'dial': {
        const { delayMs, reply } = this.dial;
        if (reply === 'no-reply') {
          await new Promise((resolve) => setTimeout(resolve, timeoutMs));
          throw new RoomlineError('BROWSER_FAILED', `the bot page did not answer "dial" within ${timeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return reply;
      }
      case 'hangup':
        if (this.hangup === 'no-reply') {
          await new Promise((resolve) => setTimeout(resolve, timeoutMs));
          throw new RoomlineError('BROWSER_FAILED', `the bot page did not answer "hangup" within ${timeoutMs} ms`);
        }
        // Janus confirms the hangup: the SIP leg ends
        setTimeout(() => this.emit({ type: 'sip-ended', by: 'local', code: 487 }), 5);
        return { kind: 'ok', result: { sent: true } };
      case 'get-stats':
        return { kind: 'ok', result: { sampledAt: new Date().toISOString(), sip: {}, room: {} } };
      case 'leave':
        return { kind: 'ok', result: { left: true } };
      case 'init':
        return { kind: 'ok', result: { janusServer: 'scripted' } };
      case 'health':
        return { kind: 'ok', result: { janus: 'open' } };
      case 'send-dtmf':
        return { kind: 'ok', result: { sent: 0 } };
      case 'hold':
        return { kind: 'ok', result: { held: true } };
      case 'resume':
        return { kind: 'ok', result: { held: false } };
      case 'transfer':
        return { kind: 'ok', result: { requested: true } };
      case 'inbound-register':
        return { kind: 'ok', result: { registered: true } };
      case 'inbound-unregister':
        return { kind: 'ok', result: { unregistered: true } };
      case 'inbound-decline':
        return { kind: 'ok', result: { declined: true } };
      case 'answer':
        return { kind: 'ok', result: { answering: true } };
      case 'play-prompt':
        return { kind: 'ok', result: { playedMs: 0 } };
    }
  }
}
