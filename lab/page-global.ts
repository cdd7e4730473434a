import type { Page } from 'puppeteer-core';

/**
 * Calls a method of an object a lab page puts on `globalThis` (the simulated person's `__person`, the direct
 * caller's `__direct`) and resolves with what it returns.
 */
export function callPage<T>(page: Page, global: string, method: string, arg?: unknown): Promise<T> {
  return page.evaluate(
    (name, fn, a) => {
      const target = (globalThis as unknown as Record<string, Record<string, (a?: unknown) => unknown>>)[name]!;
      return target[fn]!(a ?? undefined);
    },
    global,
    method,
    (arg ?? null) as never,
  ) as Promise<T>;
}
