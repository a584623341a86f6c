/**
 * Which tenant role may write which ledger items, by the partition key prefix of the items (the key design is in
 * ledger-schema.ts and review-schema.ts). The tenant data construct turns each role's list into a
 * `dynamodb:LeadingKeys` condition on its write permissions, so a role can write only the items it owns:
 *
 * | prefix   | items                                  | written by                                        |
 * |----------|----------------------------------------|---------------------------------------------------|
 * | `REQ#`   | request records                        | inference (creates, records usage), review steps and review API (resolve) |
 * | `USAGE#` | month usage counters                   | inference                                         |
 * | `REV#`   | reviews: the decision and who made it  | review steps (create, expire, apply) and review API (decide) — never inference |
 * | `REVQ#`  | review caps: open reviews, hourly starts | inference (admit, give back), review steps (release when a review ends, sweep) |
 *
 * A new item type is one line here: add its prefix to {@link LEDGER_KEY_PREFIXES} and to the roles that write it
 * (a test fails while a key builder's prefix is owned by no role). Reads are not limited by prefix (see
 * lib/constructs/tenant-data/tenant-data.ts).
 */

/** Partition key prefixes of the ledger's item types. */
export const LEDGER_KEY_PREFIXES = {
  request: 'REQ#',
  usage: 'USAGE#',
  review: 'REV#',
  reviewQueue: 'REVQ#',
} as const;
export type LedgerKeyPrefix = (typeof LEDGER_KEY_PREFIXES)[keyof typeof LEDGER_KEY_PREFIXES];

/** The prefixes each tenant role may write (PutItem, UpdateItem). */
export const LEDGER_WRITERS = {
  /** The inference function: request records and usage counters; never a review. */
  inference: [LEDGER_KEY_PREFIXES.request, LEDGER_KEY_PREFIXES.usage, LEDGER_KEY_PREFIXES.reviewQueue],
  /** The review workflow's steps function. */
  reviewSteps: [LEDGER_KEY_PREFIXES.request, LEDGER_KEY_PREFIXES.review, LEDGER_KEY_PREFIXES.reviewQueue],
  /** The review API (list, show, decide). */
  reviewApi: [LEDGER_KEY_PREFIXES.request, LEDGER_KEY_PREFIXES.review],
} as const satisfies Record<string, readonly LedgerKeyPrefix[]>;
export type LedgerWriter = keyof typeof LEDGER_WRITERS;

/** The prefix of a partition key value: everything up to and including its first `#` (the whole value without one). */
export function keyPrefixOf(pk: string): string {
  const i = pk.indexOf('#');
  return i < 0 ? pk : pk.slice(0, i + 1);
}
