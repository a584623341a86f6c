import { type KeyScope, poolKeyScope, SILO_KEY_SCOPE } from '../../../lambda/shared/key-scope';
import {
  keyPrefixOf,
  LEDGER_KEY_PREFIXES,
  LEDGER_WRITERS,
  type LedgerKeyPrefix,
} from '../../../lambda/shared/ledger-access';
import * as ledgerSchema from '../../../lambda/shared/ledger-schema';
import * as reviewSchema from '../../../lambda/shared/review-schema';

/**
 * Every key builder of the key design: exported functions named `…Key` of the two schema modules. Each takes its
 * id (if it has one) and then, last, the key scope.
 */
type KeyBuilder = (...args: unknown[]) => Record<string, string>;
const keyOf = (build: KeyBuilder, scope: KeyScope) => (build.length === 0 ? build(scope) : build('2026-01-x', scope));
const KEY_BUILDERS = Object.entries({ ...ledgerSchema, ...reviewSchema } as Record<string, unknown>)
  .filter(([name, v]) => typeof v === 'function' && /Key$/.test(name))
  .map(([name, v]) => [name, v as KeyBuilder] as const);
const owners = (prefix: string) =>
  Object.entries(LEDGER_WRITERS)
    .filter(([, prefixes]) => (prefixes as readonly string[]).includes(prefix))
    .map(([role]) => role);

describe('ledger write ownership (LEDGER_WRITERS)', () => {
  it('finds the key builders of the key design', () => {
    expect(KEY_BUILDERS.map(([name]) => name).sort()).toEqual(
      expect.arrayContaining(['requestKey', 'reviewKey', 'usageKey']),
    );
  });

  it.each(KEY_BUILDERS)('gives the items %s builds a known prefix that some role may write', (_name, build) => {
    const pk = keyOf(build, SILO_KEY_SCOPE)[ledgerSchema.LEDGER_KEYS.partitionKey]!;
    const prefix = keyPrefixOf(pk);
    expect(Object.values(LEDGER_KEY_PREFIXES)).toContain(prefix);
    expect(owners(prefix).length).toBeGreaterThan(0);
    // The silo scope is the default: the same key without one.
    expect(build.length === 0 ? build() : build('2026-01-x')).toEqual(keyOf(build, SILO_KEY_SCOPE));
  });

  it.each(KEY_BUILDERS)("puts %s's pooled keys under the tenant's prefix, then the silo key", (_name, build) => {
    const silo = keyOf(build, SILO_KEY_SCOPE);
    const pooled = keyOf(build, poolKeyScope('acme'));
    expect(pooled).toEqual({ ...silo, pk: `T#acme#${silo.pk}` });
  });

  it('puts the review index partitions of a pooled tenant under its prefix too', () => {
    for (const which of Object.keys(reviewSchema.REVIEW_PARTITIONS) as Array<
      keyof typeof reviewSchema.REVIEW_PARTITIONS
    >) {
      expect(reviewSchema.reviewPartition(which)).toBe(reviewSchema.REVIEW_PARTITIONS[which]);
      expect(reviewSchema.reviewPartition(which, poolKeyScope('acme'))).toBe(
        `T#acme#${reviewSchema.REVIEW_PARTITIONS[which]}`,
      );
    }
  });

  it('gives every prefix at least one writer', () => {
    for (const prefix of Object.values(LEDGER_KEY_PREFIXES))
      expect({ prefix, owners: owners(prefix).length > 0 }).toEqual({ prefix, owners: true });
  });

  it('lets only the review roles write reviews (REV#): inference may not, so it cannot forge a decision', () => {
    expect(owners(LEDGER_KEY_PREFIXES.review).sort()).toEqual(['reviewApi', 'reviewSteps']);
    expect(LEDGER_WRITERS.inference as readonly LedgerKeyPrefix[]).not.toContain(LEDGER_KEY_PREFIXES.review);
  });

  it('reads the prefix of a partition key up to its first #', () => {
    expect(keyPrefixOf('REV#rev_a#b')).toBe('REV#');
    expect(keyPrefixOf('plain')).toBe('plain');
  });
});
