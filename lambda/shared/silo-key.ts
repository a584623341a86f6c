/**
 * Crypto-shredding of a silo tenant: its ledger is encrypted with its own KMS key, and offboarding (its stack
 * destroyed) schedules that key's deletion; once deleted, what the retained table and backups hold cannot be read.
 * KMS holds a key scheduled for deletion for a pending window of 7 to 30 days
 * (https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html), during which the deletion can be
 * cancelled. The window is the tenant's retention (`dataRetentionDays`) within those bounds: the stacks set it on
 * the silo key (`pendingWindow`, with a DESTROY removal policy), and the control plane's evidence states it.
 */

/** KMS's bounds on a key's pending window, in days. */
export const KMS_PENDING_WINDOW_DAYS = { min: 7, max: 30 } as const;

/** The pending window of a silo tenant's key: its retention in days, within KMS's bounds. */
export function siloKeyPendingWindowDays(dataRetentionDays: number): number {
  const days = Number.isFinite(dataRetentionDays) ? Math.round(dataRetentionDays) : KMS_PENDING_WINDOW_DAYS.max;
  return Math.min(KMS_PENDING_WINDOW_DAYS.max, Math.max(KMS_PENDING_WINDOW_DAYS.min, days));
}

/** Template metadata on a key deleted with its stack on purpose (crypto-shredding), checked by `RetainTenantData`. */
export const CRYPTO_SHRED_METADATA = 'switchboard:crypto-shred';
