import { Bot } from './bot.js';
import { serveCommands } from './commands.js';
import { installWebSocketGuard } from './network-guard.js';
import { createRoomAdapter } from './rooms/registry.js';

/**
 * Entry point of the bot page: every room provider's adapter is loaded on demand from the registry. WebSockets open
 * only to the origins the current call allows (network-guard.ts), from before any other code runs.
 */
installWebSocketGuard();
serveCommands(new Bot(createRoomAdapter));
document.title = 'roomline bot (ready)';
