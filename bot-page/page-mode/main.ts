import { Bot } from '../bot.js';
import { serveCommands } from '../commands.js';
import { createPageRoom } from '../rooms/page.js';
import { setCurrentMediaHub } from './current.js';
import { relayToTop, serveFrameRelays } from './frame-relay.js';
import { installMediaHub } from './media-hub.js';

/**
 * Page mode: injected into every frame of the customer's app before any of its scripts runs. In every frame the app's
 * media devices and peer connections become the bridge's (media-hub.ts). In the top frame the bot serves the worker's
 * commands and joins through the app (rooms/page.ts); a frame below relays its app's media to the top frame
 * (frame-relay.ts), since a track cannot cross a frame boundary.
 */
const hub = installMediaHub();
if (window === window.top) {
  setCurrentMediaHub(hub);
  serveFrameRelays(hub);
  serveCommands(
    new Bot(async (room, events, options) => {
      if (room.provider !== 'page') throw new Error(`this page joins page-mode rooms only, not ${room.provider}`);
      return createPageRoom(room, events, options);
    }),
  );
} else {
  relayToTop(hub);
}
