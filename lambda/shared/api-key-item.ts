/**
 * How a pooled tenant's API key is stored in the tenant registry: never the key, only its SHA-256 (hex), as the
 * item `{ pk: 'KEY#<hash>', sk: 'KEY', tenantId, status }`. The pool authorizer reads it
 * (lambda/pool-authorizer/adapters/dynamo-registry.ts); the control plane writes it. Every attribute name and key
 * value is here, once, so both sides stay aligned.
 */

/** Attribute names and key values of an API key item. */
export const API_KEY_ITEM = {
  /** Partition key attribute. */
  partitionKey: 'pk',
  /** Sort key attribute. */
  sortKey: 'sk',
  /** Partition key value prefix; the key's SHA-256 (lowercase hex) follows. */
  partitionPrefix: 'KEY#',
  /** Sort key value of the key item. */
  sortValue: 'KEY',
  /** Attribute: the tenant the key belongs to. */
  tenantId: 'tenantId',
  /** Attribute: the key's tenant status ({@link API_KEY_STATUSES}). */
  status: 'status',
} as const;

/** Statuses of a key item; only `active` is let through. */
export const API_KEY_STATUSES = ['active', 'suspended', 'deleted'] as const;
export type ApiKeyStatus = (typeof API_KEY_STATUSES)[number];

/** The primary key of the item holding the key whose SHA-256 is `hash`. */
export function apiKeyItemKey(hash: string): Record<string, string> {
  return {
    [API_KEY_ITEM.partitionKey]: `${API_KEY_ITEM.partitionPrefix}${hash}`,
    [API_KEY_ITEM.sortKey]: API_KEY_ITEM.sortValue,
  };
}
