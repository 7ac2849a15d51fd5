/** A small typed event emitter (the browser has no Node EventEmitter, and the client takes no dependency). */
export type Listener<T> = (value: T) => void;

/** Listeners per event name; `on` returns the function that removes the listener. */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Adds a listener; call the returned function to remove it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** Calls every listener of the event; a listener that throws is reported through `onListenerError` and the rest still run. */
  emit<K extends keyof Events>(event: K, value: Events[K], onListenerError: (error: unknown) => void): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(value);
      } catch (error) {
        onListenerError(error);
      }
    }
  }
}
