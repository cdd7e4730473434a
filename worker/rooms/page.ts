import type { Page } from 'puppeteer-core';
import { RoomlineError } from '../../contracts/errors.js';
import type { PageRoomJoin } from '../../contracts/rooms/page.js';
import type { BrowserSource } from '../browser-source.js';
import type { PageSite } from '../page-site.js';
import type { PageBridge } from '../page-bridge.js';

export interface AppPageContext {
  readonly browser: BrowserSource;
  readonly page: Page;
  readonly bridge: PageBridge;
  /** The built bot page: holds `page-mode.js`, the script injected into the app. */
  readonly site: PageSite;
  readonly janusUrl: string;
  /** The Janus API secret of the SIP node (ROOMLINE_JANUS_API_SECRET). @default none */
  readonly apiSecret?: string | undefined;
  readonly iceServers: readonly { urls: string | string[]; username?: string; credential?: string }[];
}

/** How long the app's page may take to load. */
const LOAD_TIMEOUT_MS = 20_000;

/**
 * Page mode, worker side: takes the bot's tab from the warm bot page into the customer's app. The page-mode script
 * (the bot, with the app's media devices and peer connections as the bridge's) is injected into every frame before
 * any script of the app runs; the page is opened with its secret parameters (never logged: error texts are scrubbed
 * of them); then the bot opens its SIP session again from inside the app. The warm-up's SIP session belongs to the
 * page being left: it is closed first.
 */
export async function enterAppPage(room: PageRoomJoin, context: AppPageContext): Promise<void> {
  const { page, bridge } = context;
  await bridge.send({ type: 'leave' }, 3_000).catch(() => undefined);
  bridge.suspendHeartbeat();
  // the app's Content-Security-Policy is for the app's own scripts: the bridge's must reach Janus
  await page.setBypassCSP(true);
  await page.evaluateOnNewDocument(context.site.text('page-mode.js'));
  await context.browser.grantAppPermissions([room.url, ...(room.origins ?? []).filter((o) => /^https?:/.test(o))]);
  const url = new URL(room.url);
  for (const [name, value] of Object.entries(room.secretParams ?? {})) url.searchParams.set(name, value);
  const scrub = secretScrubber(room);
  let status: number | undefined;
  try {
    const response = await page.goto(url.href, { waitUntil: 'domcontentloaded', timeout: LOAD_TIMEOUT_MS });
    status = response?.status();
  } catch (error) {
    throw new RoomlineError('ROOM_UNREACHABLE', `the app's page ${room.url} did not load: ${scrub(String(error))}`);
  }
  if (status !== undefined && status >= 400) {
    throw new RoomlineError('ROOM_JOIN_FAILED', `the app's page ${room.url} answered HTTP ${status}`, { retryable: status >= 500 });
  }
  await bridge.waitReady(15_000).catch((error: unknown) => {
    throw new RoomlineError('BROWSER_FAILED', `the bridge did not start inside the app's page: ${scrub(String(error))}`);
  });
  await bridge.send({
    type: 'init',
    janusUrl: context.janusUrl,
    iceServers: [...context.iceServers],
    // the app's connections are its own: nothing to forward from, and no worker of ours in the customer's page
    encodedForwarding: false,
    ...(context.apiSecret === undefined ? {} : { apiSecret: context.apiSecret }),
  });
}

/** Removes the room's secret values from a text (an error message may quote the URL it opened). */
function secretScrubber(room: PageRoomJoin): (text: string) => string {
  const secrets = [...Object.values(room.secretParams ?? {}), ...Object.values(room.secrets ?? {})].filter((s) => s.length > 0);
  return (text) => {
    let clean = text;
    for (const secret of secrets) {
      clean = clean.split(secret).join('…').split(encodeURIComponent(secret)).join('…');
    }
    return clean;
  };
}
