import { Bot } from './bot.js';
import { serveCommands } from './commands.js';
import { createRoomAdapter } from './rooms/registry.js';

/** Entry point of the bot page: every room provider's adapter is loaded on demand from the registry. */
serveCommands(new Bot(createRoomAdapter));
document.title = 'roomline bot (ready)';
