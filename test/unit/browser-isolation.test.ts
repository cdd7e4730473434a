import { describe, expect, it } from 'vitest';
import { BROWSER_ENVIRONMENT_KEYS, browserEnvironment } from '../../worker/browser-isolation.js';
import { BrowserSource } from '../../worker/browser-source.js';
import { createLogger } from '../../worker/logger.js';

describe('how the worker starts Chromium', () => {
  it('refuses to start it sandboxed as root without an unprivileged user to run it as', async () => {
    // Prepare
    const asRoot = process.getuid?.() === 0;

    // Act
    const error = await BrowserSource.launch({ logger: createLogger({ level: 'silent' }), isolation: { sandbox: true } }).then(
      async (browser) => {
        await browser.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );

    // Assess: the tests run as root (the lab needs it); elsewhere this launch would be a normal one
    expect(asRoot, 'the test suite runs as root').toBe(true);
    expect(error?.message).toBe("Chromium's sandbox does not run as root: set ROOMLINE_CHROMIUM_USER to an unprivileged user");
  });

  it('gives it an environment of its own folders and nothing of the worker\'s', () => {
    // Act
    const env = browserEnvironment('/tmp/x/home');

    // Assess
    expect(Object.keys(env).sort()).toEqual([...BROWSER_ENVIRONMENT_KEYS].sort());
    expect(Object.values(env).join('\n')).not.toMatch(/AWS|ROOMLINE|SECRET/);
  });
});

describe('the origins a worker\'s browser may always reach', () => {
  it('include the TURN servers of the configuration, which Chromium reaches over TCP through the proxy', async () => {
    // Prepare
    const { iceServerOrigins } = await import('../../worker/worker-browser.js');
    const { originTarget } = await import('../../worker/egress-proxy.js');

    // Act
    const origins = iceServerOrigins([
      { urls: ['turn:turn.example.com:3478?transport=tcp', 'turns:turn.example.com'], username: 'u', credential: 'c' },
      { urls: 'stun:[2001:db8::1]:19302' },
    ]);

    // Assess
    expect(origins.map(originTarget)).toEqual(['turn.example.com:3478', 'turn.example.com:5349', '[2001:db8::1]:19302']);
  });
});
