import { RoomlineError } from '../contracts/errors.js';
import { PAGE_COMMAND_GLOBAL, PAGE_HEARTBEAT_MS, pageCommandSchema, type PageReply } from '../contracts/page-rpc.js';
import { Bot } from './bot.js';
import { JanusError } from './janus/janus-client.js';
import { emit, errorMessage } from './host.js';
import { installWebSocketGuard } from './network-guard.js';

/**
 * Entry point of the bot page. The worker calls `window.__roomline.exec(command)`; every command is validated here
 * before it runs, and every answer is a PageReply: the result, or a failure with its error code.
 */
installWebSocketGuard();
const bot = new Bot();

async function exec(raw: unknown): Promise<PageReply> {
  const parsed = pageCommandSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, error: new RoomlineError('INTERNAL', `invalid page command: ${parsed.error.message}`).toJSON() };
  }
  try {
    return { ok: true, result: await bot.execute(parsed.data) };
  } catch (error) {
    const failure =
      error instanceof RoomlineError
        ? error
        : error instanceof JanusError && error.transport
          ? new RoomlineError('JANUS_UNAVAILABLE', error.message)
          : new RoomlineError('INTERNAL', errorMessage(error));
    return { ok: false, error: failure.toJSON() };
  }
}

Object.assign(globalThis, { [PAGE_COMMAND_GLOBAL]: { exec } });
setInterval(() => emit({ type: 'heartbeat', at: Date.now() }), PAGE_HEARTBEAT_MS);
addEventListener('error', (event) => emit({ type: 'page-error', message: String(event.message).slice(0, 2_000) }));
addEventListener('unhandledrejection', (event) =>
  emit({ type: 'page-error', message: errorMessage(event.reason).slice(0, 2_000) }),
);
document.title = 'roomline bot (ready)';
