import { RoomlineError } from '../contracts/errors.js';
import { PAGE_COMMAND_GLOBAL, PAGE_HEARTBEAT_MS, pageCommandSchema, type PageReply } from '../contracts/page-rpc.js';
import type { Bot } from './bot.js';
import { JanusError } from './janus/janus-error.js';
import { emit, errorMessage } from './host.js';
import { CommandSteps } from './setup-steps.js';

/**
 * Serves the worker's commands to `bot` in this page: `window.__roomline.exec(command)` validates every command before
 * it runs and answers with a PageReply (the result, or a failure with its error code); a heartbeat and the page's
 * uncaught errors go to the worker as events.
 */
export function serveCommands(bot: Bot): void {
  async function exec(raw: unknown): Promise<PageReply> {
    const parsed = pageCommandSchema.safeParse(raw);
    if (!parsed.success) {
      return { ok: false, error: new RoomlineError('INTERNAL', `invalid page command: ${parsed.error.message}`).toJSON() };
    }
    // how long the page ran the command, and its steps, go with the reply (the call's setup trace)
    const steps = new CommandSteps(parsed.data.type);
    try {
      const result = await bot.execute(parsed.data, steps);
      return { ok: true, result, trace: steps.reply() };
    } catch (error) {
      const failure =
        error instanceof RoomlineError
          ? error
          : error instanceof JanusError && error.transport
            ? new RoomlineError('JANUS_UNAVAILABLE', error.message)
            : new RoomlineError('INTERNAL', errorMessage(error));
      return { ok: false, error: failure.toJSON(), trace: steps.reply() };
    }
  }

  Object.defineProperty(globalThis, PAGE_COMMAND_GLOBAL, { value: Object.freeze({ exec }), configurable: false });
  // the SIP leg's Janus session goes with each heartbeat: the worker knows its health without asking
  setInterval(() => emit({ type: 'heartbeat', at: Date.now(), janus: bot.janusHealth }), PAGE_HEARTBEAT_MS);
  addEventListener('error', (event) => emit({ type: 'page-error', message: String(event.message).slice(0, 2_000) }));
  addEventListener('unhandledrejection', (event) =>
    emit({ type: 'page-error', message: errorMessage(event.reason).slice(0, 2_000) }),
  );
}
