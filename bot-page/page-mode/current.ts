import type { MediaHub } from './media-hub.js';

/** The media hub of this window, when the bot runs inside an app's page (page mode). */
let hub: MediaHub | undefined;

export function setCurrentMediaHub(installed: MediaHub): void {
  hub = installed;
}

export function currentMediaHub(): MediaHub | undefined {
  return hub;
}
