/**
 * The ledger table's key design, shared by the table construct (key schema, TTL attribute) and the
 * handlers (item keys). One table per tenant; single-table design:
 *
 * | item                | pk                    | sk        |
 * |---------------------|-----------------------|-----------|
 * | request record      | `REQ#<requestId>`     | `REQUEST` |
 * | month usage counter | `USAGE#<yyyy-mm>`     | `TOTAL`   |
 *
 * Every write is a single-item conditional write (no transactions), which DynamoDB, DynamoDB Local and
 * dynalite all support.
 *
 * A pool cell's table holds many tenants: there every partition key starts with the tenant's prefix
 * (`T#acme#REQ#<requestId>`), given by the adapter's {@link KeyScope} (key-scope.ts); the silo scope adds nothing.
 */
import { type KeyScope, SILO_KEY_SCOPE, scoped } from './key-scope';

export const LEDGER_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds after which DynamoDB TTL removes a request record (tenant `dataRetentionDays`). */
  ttlAttribute: 'expiresAt',
} as const;

/** Key of a request record. */
export function requestKey(requestId: string, scope: KeyScope = SILO_KEY_SCOPE) {
  return { [LEDGER_KEYS.partitionKey]: scoped(scope, `REQ#${requestId}`), [LEDGER_KEYS.sortKey]: 'REQUEST' };
}

/** Key of a month's usage counter (`month` is `yyyy-mm`, UTC). */
export function usageKey(month: string, scope: KeyScope = SILO_KEY_SCOPE) {
  return { [LEDGER_KEYS.partitionKey]: scoped(scope, `USAGE#${month}`), [LEDGER_KEYS.sortKey]: 'TOTAL' };
}

/** The UTC month (`yyyy-mm`) an instant belongs to. */
export function monthOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}
