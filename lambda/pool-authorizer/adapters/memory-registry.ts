/** An in-memory tenant registry of API keys, for tests, benchmarks and a local sandbox. */
import { hashApiKey } from '../core/api-key';
import type { ApiKeyRecord, ApiKeyRegistry } from '../core/ports';

/** An in-memory {@link ApiKeyRegistry} that counts its lookups. */
export class InMemoryApiKeyRegistry implements ApiKeyRegistry {
  /** Lookups made (a test proves the container cache with it). */
  lookups = 0;
  private readonly byHash = new Map<string, ApiKeyRecord>();

  /** Registers `key` (hashed, as the control plane stores it) for `record`. */
  put(key: string, record: ApiKeyRecord): void {
    this.byHash.set(hashApiKey(key), record);
  }

  async lookupApiKey(hash: string): Promise<ApiKeyRecord | undefined> {
    this.lookups += 1;
    return this.byHash.get(hash);
  }
}
