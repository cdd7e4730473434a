import { labBrowserIsolation } from '../../lab/netns.js';
import { createLogger } from '../../worker/logger.js';
import { BrowserSource } from '../../worker/browser-source.js';
import { PageSite } from '../../worker/page-site.js';
import { PageBridge } from '../../worker/page-bridge.js';
import { botPageDir } from '../../worker/paths.js';

/**
 * The real, shipped bot page (dist/bot-page, with the real CPaaS SDK chunks) in a Chromium of its own inside the lab's
 * namespace, with no origin allowed: every request the page makes beyond its own is refused inside Chromium (nothing
 * reaches a network), and noted here.
 */
export interface RealBotPage {
  readonly bridge: PageBridge;
  /** URLs the page asked for beyond its own origin (all refused), in order. */
  readonly requested: string[];
  close(): Promise<void>;
}

export async function openRealBotPage(netns: string): Promise<RealBotPage> {
  const logger = createLogger({ level: 'silent' });
  const browser = await BrowserSource.launch({ netns, logger, ...labBrowserIsolation() });
  try {
    const page = await browser.newPage(await PageSite.load(botPageDir()));
    const requested: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('http://localhost/')) requested.push(request.url());
    });
    const bridge = await PageBridge.attach(page, { logger, commandTimeoutMs: 90_000 });
    await browser.load(page);
    await bridge.waitReady();
    return {
      bridge,
      requested,
      close: async () => {
        bridge.stop();
        await browser.close();
      },
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
