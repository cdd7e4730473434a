import type { Page } from 'puppeteer-core';
import { RoomlineError } from '../contracts/errors.js';
import {
  PAGE_COMMAND_GLOBAL,
  PAGE_EVENT_FUNCTION,
  PAGE_HEARTBEAT_MS,
  pageEventSchema,
  pageReplySchema,
  type PageCommand,
  type PageCommandResults,
  type PageCommandType,
  type PageEvent,
  type PageEventOf,
  type PageEventType,
} from '../contracts/page-rpc.js';
import type { PageTrace } from '../contracts/setup-trace.js';
import type { Logger } from './logger.js';

/**
 * What the page did with a command: its result, or the failure it reported; with how long the page ran it and its
 * setup steps (`trace`), when it said.
 */
export type PageOutcome<R> =
  | { readonly kind: 'ok'; readonly result: R; readonly trace?: PageTrace }
  | { readonly kind: 'failed'; readonly error: RoomlineError; readonly trace?: PageTrace };

type Listener<T extends PageEventType> = (event: PageEventOf<T>) => void;
type AnyListener = (event: PageEvent) => void;

/**
 * The typed RPC with the bot page, and only that: commands out through `page.evaluate`, events in through an exposed
 * function, both validated on arrival. It watches the page's heartbeat and reports a page that stops answering.
 */
export class PageBridge {
  private readonly listeners = new Map<PageEventType, Set<AnyListener>>();
  private lastHeartbeat = Date.now();
  /** What the last heartbeat said of the page's Janus session, and when it came (epoch ms). */
  private janusHeard: { readonly open: boolean; readonly heardMs?: number; readonly at: number } | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private unresponsiveListeners: ((reason: string) => void)[] = [];

  private constructor(
    private readonly page: Page,
    private readonly logger: Logger,
    private readonly commandTimeoutMs: number,
  ) {}

  /** Exposes the event function on `page`; do this before the bot page loads. */
  static async attach(page: Page, options: { logger: Logger; commandTimeoutMs: number }): Promise<PageBridge> {
    const bridge = new PageBridge(page, options.logger, options.commandTimeoutMs);
    await page.exposeFunction(PAGE_EVENT_FUNCTION, (raw: unknown) => bridge.receive(raw));
    page.on('error', (error) => bridge.fail(`page crashed: ${error.message}`));
    return bridge;
  }

  /** Starts watching heartbeats: a page silent for `timeoutMs` is reported unresponsive. */
  watchHeartbeat(timeoutMs = PAGE_HEARTBEAT_MS * 5): void {
    this.lastHeartbeat = Date.now();
    this.watchdog ??= setInterval(() => {
      const silentMs = Date.now() - this.lastHeartbeat;
      if (silentMs > timeoutMs) this.fail(`no heartbeat from the bot page for ${silentMs} ms`);
    }, PAGE_HEARTBEAT_MS);
    this.watchdog.unref();
  }

  /** Stops watching heartbeats while the page navigates (a new document starts them again: see waitReady). */
  suspendHeartbeat(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /**
   * How long ago (ms) the page's Janus session was last heard from, as its heartbeats tell: undefined when the page
   * said nothing of it yet or said it is closed. The time since the heartbeat itself counts too.
   */
  get janusSilentMs(): number | undefined {
    const heard = this.janusHeard;
    if (heard === undefined || !heard.open || heard.heardMs === undefined) return undefined;
    return heard.heardMs + (Date.now() - heard.at);
  }

  onUnresponsive(listener: (reason: string) => void): void {
    this.unresponsiveListeners.push(listener);
  }

  on<T extends PageEventType>(type: T, listener: Listener<T>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(type, set);
    }
    // listeners are stored by event type, so each only ever receives events of its own type
    const stored = listener as unknown as AnyListener;
    set.add(stored);
    return () => set.delete(stored);
  }

  /** Sends a command and resolves with its typed result; a failure in the page rejects with its RoomlineError. */
  async send<T extends PageCommandType>(
    command: Extract<PageCommand, { type: T }>,
    timeoutMs = this.commandTimeoutMs,
  ): Promise<PageCommandResults[T]> {
    const outcome = await this.request(command, timeoutMs);
    if (outcome.kind === 'failed') throw outcome.error;
    return outcome.result;
  }

  /**
   * Sends a command and tells a failure the page reported (`failed`: the page ran the command and says what went
   * wrong, e.g. whether Janus took an INVITE) from no answer at all, which rejects: the page crashed, timed out or was
   * closed, so what it did is unknown.
   */
  async request<T extends PageCommandType>(
    command: Extract<PageCommand, { type: T }>,
    timeoutMs = this.commandTimeoutMs,
  ): Promise<PageOutcome<PageCommandResults[T]>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RoomlineError('BROWSER_FAILED', `the bot page did not answer "${command.type}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const raw = await Promise.race([
        this.page.evaluate(
          (global, cmd) => (globalThis as unknown as Record<string, { exec(c: unknown): Promise<unknown> }>)[global]!.exec(cmd),
          PAGE_COMMAND_GLOBAL,
          command as unknown as Record<string, unknown>,
        ),
        timeout,
      ]);
      const reply = pageReplySchema.safeParse(raw);
      if (!reply.success) throw new RoomlineError('INTERNAL', `malformed reply to "${command.type}" from the bot page`);
      const trace = reply.data.trace === undefined ? {} : { trace: reply.data.trace };
      if (!reply.data.ok) {
        const { code, reason, retryable, sipCode } = reply.data.error;
        return { kind: 'failed', error: new RoomlineError(code, reason, { retryable, ...(sipCode === undefined ? {} : { sipCode }) }), ...trace };
      }
      return { kind: 'ok', result: reply.data.result as PageCommandResults[T], ...trace };
    } catch (error) {
      if (error instanceof RoomlineError) throw error;
      throw new RoomlineError('BROWSER_FAILED', `the bot page failed "${command.type}": ${String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the page's command global exists. */
  async waitReady(timeoutMs = 10_000): Promise<void> {
    await this.page.waitForFunction((global) => global in globalThis, { timeout: timeoutMs }, PAGE_COMMAND_GLOBAL);
    this.watchHeartbeat();
  }

  stop(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.listeners.clear();
    this.unresponsiveListeners = [];
  }

  private receive(raw: unknown): void {
    const parsed = pageEventSchema.safeParse(raw);
    if (!parsed.success) {
      this.logger.warn({ issues: parsed.error.issues.slice(0, 3) }, 'invalid event from the bot page ignored');
      return;
    }
    const event: PageEvent = parsed.data;
    if (event.type === 'heartbeat') {
      this.lastHeartbeat = Date.now();
      if (event.janus !== undefined) this.janusHeard = { ...event.janus, at: this.lastHeartbeat };
    } else if (event.type === 'log') {
      this.logger[event.level]({ page: true, ...event.data }, event.msg);
    }
    for (const listener of this.listeners.get(event.type) ?? []) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ error: String(error), event: event.type }, 'page event listener failed');
      }
    }
  }

  private fail(reason: string): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = undefined;
    const listeners = this.unresponsiveListeners;
    this.unresponsiveListeners = [];
    for (const listener of listeners) listener(reason);
  }
}
