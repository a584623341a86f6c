/**
 * The container's cache of registry answers, by key hash: a warm container answers a repeated key without a
 * registry read. Entries live {@link LOOKUP_CACHE_TTL_MS}: that bounds how long a suspended or deleted key is
 * still let through by this container, on top of API Gateway's own authorizer cache (see the construct).
 * Unknown keys are cached too (a flood of one wrong key costs one read per TTL), and the cache holds at most
 * `maxEntries`, dropping the oldest, so a flood of different wrong keys cannot grow it without bound.
 */
import { TtlCache } from '../../shared/ttl-cache';
import type { ApiKeyRecord, Clock } from './ports';

/** How long a registry answer is reused by one container. */
export const LOOKUP_CACHE_TTL_MS = 10_000;
/** Entries held at most. */
export const LOOKUP_CACHE_MAX_ENTRIES = 10_000;

/** A bounded TTL cache of registry answers. */
export class LookupCache {
  private readonly cache: TtlCache<string, ApiKeyRecord | undefined>;

  constructor(clock: Clock, ttlMs = LOOKUP_CACHE_TTL_MS, maxEntries = LOOKUP_CACHE_MAX_ENTRIES) {
    this.cache = new TtlCache({ now: () => clock.now(), ttlMs, maxEntries });
  }

  /** The cached answer for `hash` (`{ record: undefined }` is a cached "unknown"), or undefined on a miss. */
  get(hash: string): { readonly record: ApiKeyRecord | undefined } | undefined {
    const hit = this.cache.get(hash);
    return hit && { record: hit.value };
  }

  /** Remembers the registry's answer for `hash`. */
  set(hash: string, record: ApiKeyRecord | undefined): void {
    this.cache.set(hash, record);
  }

  /** Entries held (expired ones included until read). */
  get size(): number {
    return this.cache.size;
  }
}
