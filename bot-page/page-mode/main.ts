import { Bot } from '../bot.js';
import { serveCommands } from '../commands.js';
import { createPageRoom } from '../rooms/page.js';
import { setCurrentMediaHub } from './current.js';
import { installMediaHub } from './media-hub.js';

/**
 * Page mode: injected into every frame of the customer's app before any of its scripts runs. The app's media devices
 * and peer connections become the bridge's (media-hub.ts); in the top frame the bot serves the worker's commands and
 * joins through the app (rooms/page.ts).
 */
if (window === window.top) {
  setCurrentMediaHub(installMediaHub());
  serveCommands(new Bot(async (room, events) => {
    if (room.provider !== 'page') throw new Error(`this page joins page-mode rooms only, not ${room.provider}`);
    return createPageRoom(room, events, { iceServers: [], receiveVideo: true });
  }));
}
