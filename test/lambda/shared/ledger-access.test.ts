import {
  keyPrefixOf,
  LEDGER_KEY_PREFIXES,
  LEDGER_WRITERS,
  type LedgerKeyPrefix,
} from '../../../lambda/shared/ledger-access';
import * as ledgerSchema from '../../../lambda/shared/ledger-schema';
import * as reviewSchema from '../../../lambda/shared/review-schema';

/** Every key builder of the key design: exported functions named `…Key` of the two schema modules. */
type KeyBuilder = (id: string) => Record<string, string>;
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
    const pk = build('2026-01-x')[ledgerSchema.LEDGER_KEYS.partitionKey]!;
    const prefix = keyPrefixOf(pk);
    expect(Object.values(LEDGER_KEY_PREFIXES)).toContain(prefix);
    expect(owners(prefix).length).toBeGreaterThan(0);
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
