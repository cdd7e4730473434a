import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until it returns true, or throws after `timeoutMs` naming `what` was awaited (a function is asked
 * only then, so the message can say what was last seen).
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; what: string | (() => string); intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what;
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
