/** A promise-chain mutex: binding decisions run one at a time (no race past max_count). */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  /** Run `fn` after every earlier holder finished. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.tail.then(fn, fn);
    this.tail = r.catch(() => undefined);
    return r;
  }
}
