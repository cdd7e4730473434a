import { PAGE_EVENT_FUNCTION, type PageEvent } from '../contracts/page-rpc.js';

/** The page's only way to talk to the worker: the function the worker exposes (events, logs, heartbeats). */
type EmitFunction = (event: PageEvent) => Promise<void>;

export function emit(event: PageEvent): void {
  const fn = (globalThis as unknown as Record<string, EmitFunction | undefined>)[PAGE_EVENT_FUNCTION];
  if (fn === undefined) return; // opened outside a worker (e.g. by hand): nothing listens
  void fn(event).catch(() => undefined);
}

export const log = {
  debug: (msg: string, data?: Record<string, unknown>) => emit({ type: 'log', level: 'debug', msg, ...(data ? { data } : {}) }),
  info: (msg: string, data?: Record<string, unknown>) => emit({ type: 'log', level: 'info', msg, ...(data ? { data } : {}) }),
  warn: (msg: string, data?: Record<string, unknown>) => emit({ type: 'log', level: 'warn', msg, ...(data ? { data } : {}) }),
  error: (msg: string, data?: Record<string, unknown>) => emit({ type: 'log', level: 'error', msg, ...(data ? { data } : {}) }),
};

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
