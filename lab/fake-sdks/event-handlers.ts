/**
 * The handlers a fake SDK object keeps per event: what `on` registers and `emit` calls, in the order they came. Each
 * fake (daily.ts, vonage.ts) keeps its events' payload types in `Events` (event name → payload).
 */
export class EventHandlers<Events> {
  private readonly handlers = new Map<keyof Events, Set<(event: never) => void>>();

  add<E extends keyof Events>(event: E, handler: (event: Events[E]) => void): void {
    let set = this.handlers.get(event);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    for (const handler of this.handlers.get(event) ?? []) (handler as (event: Events[E]) => void)(payload);
  }
}
