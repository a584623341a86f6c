/**
 * A bounded per-container cache whose entries live a fixed time: what a warm container reuses of a registry
 * answer (the pool authorizer's key lookups, the pooled function's tenant items) or of something built per
 * tenant (the pooled function's sessions and clients, with no expiry). At most `maxEntries` are held, the oldest
 * dropped first, so a flood of different keys cannot grow it without bound.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { readonly value: V; readonly expiresAt: number }>();

  constructor(
    private readonly opts: {
      readonly now: () => number;
      /** How long an entry is reused; `Infinity` keeps it until it is dropped for room. */
      readonly ttlMs: number;
      readonly maxEntries: number;
    },
  ) {}

  /** The entry for `key` while it is fresh (`{ value }`, so a cached `undefined` is a hit), else undefined. */
  get(key: K): { readonly value: V } | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.opts.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return { value: e.value };
  }

  /** Remembers `value` for `key` (as the newest entry). */
  set(key: K, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: this.opts.now() + this.opts.ttlMs });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Entries held (expired ones included until read). */
  get size(): number {
    return this.entries.size;
  }
}
