/** What the pool authorizer needs from the outside, and the types its steps share. */
import type { TenantStatus } from '../../shared/registry-schema';

/** An accepted API key's tenant and the tenant's status, as the registry knows them (never the key itself). */
export interface ApiKeyRecord {
  readonly tenantId: string;
  readonly status: TenantStatus;
}

/** The tenant registry, seen from the authorizer. */
export interface ApiKeyRegistry {
  /** The record of the key whose SHA-256 (lowercase hex) is `hash`, or undefined when there is none. */
  lookupApiKey(hash: string): Promise<ApiKeyRecord | undefined>;
}

/** Milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** What the authorizer decided about one request. */
export type AuthorizerDecision =
  | { readonly outcome: 'allow'; readonly tenantId: string }
  /** No usable key: the API answers 401 `unauthorized`. */
  | { readonly outcome: 'unauthorized' }
  /** A key that is unknown, suspended, deleted or malformed: the API answers 403 `forbidden`. */
  | { readonly outcome: 'forbidden'; readonly reason: 'unknown' | 'suspended' | 'deleted' | 'malformed' };
