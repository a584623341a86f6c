/**
 * Generated tenant documents (fast-check, fixed seed) through `POST /v1/tenants` on dynalite: every document gets
 * 201 or a 4xx whose message names a field of the document (or a required one), a refusal writes nothing, and
 * an invalid document gets the tenant loader's own problem lines (the same check as a file).
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseTenantFile } from '../../../lib/config/load-tenants';
import { pooled, type RegistryHarness, registryServer } from './registry-harness';

const RUNS = { seed: 1414, numRuns: 150 };

const server = registryServer([{ id: 'pool-1', capacity: 100_000 }]);
beforeAll(() => server.start());
afterAll(() => server.stop());

const anyValue = fc.oneof(
  fc.integer({ min: -10, max: 1_000_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 12 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(
    fc.constantFrom('rateLimit', 'burstLimit', 'limit', 'period', 'maxPromptChars', 'x'),
    fc.integer({ min: -5, max: 20_000 }),
    { maxKeys: 3 },
  ),
);

/** A field of a document: the schema's, a renamed one, an unknown one. */
const field = fc.constantFrom(
  'displayName',
  'plan',
  'isolation',
  'monthlyBudgetUsd',
  'throttle',
  'quota',
  'limits',
  'dataRetentionDays',
  'systemPreamble',
  'tags',
  'tier',
  'colour',
);

let n = 0;
/** A document: a pooled tenant with a unique id, with some fields replaced by generated values. */
const document = fc
  .record({
    overrides: fc.dictionary(field, anyValue, { maxKeys: 3 }),
    plan: fc.constantFrom('basic', 'standard', 'premium', 'gold'),
    isolation: fc.constantFrom(undefined, 'pool', 'silo', 'shared'),
    badId: fc.option(fc.string({ maxLength: 40 }), { freq: 5 }),
  })
  .map(({ overrides, plan, isolation, badId }) => {
    const id = badId ?? `gen-${++n}`;
    return { ...pooled(id, { plan, ...(isolation ? { isolation } : {}) }), ...overrides } as Record<string, unknown>;
  });

const FIELD_NAMES = ['id', 'plan', 'isolation', 'escalation', '(file)'];

describe('generated tenant documents', () => {
  let h: RegistryHarness;
  beforeAll(async () => {
    h = await server.harness();
  });

  it('get 201 or a 4xx naming a field, and a refusal writes nothing', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(document, async (doc) => {
        const before = (await h.scan()).length;
        const res = await h.call({ method: 'POST', path: '/v1/tenants', body: doc });
        seen.add(res.body.error?.code ?? String(res.status));
        if (res.status === 201) {
          expect(await h.usable(res.body.apiKey)).toBe(true);
          return;
        }
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect((await h.scan()).length).toBe(before);
        const message: string = res.body.error.message;
        const named = [...Object.keys(doc), ...FIELD_NAMES].some(
          (f) => message.includes(`${f}:`) || message.includes(`${f}.`) || message.includes(`"${f}"`),
        );
        expect({ message, named }).toEqual({ message, named: true });
        if (res.body.error.code === 'invalid_tenant' && typeof doc.id === 'string' && /^[a-z0-9-]+$/.test(doc.id)) {
          // The loader's lines for the same content as a file, without the file name, are in the message.
          const file = parseTenantFile(`${doc.id}.yaml`, stringify(doc));
          for (const line of file.problems.slice(0, 3)) expect(message).toContain(line.replace(`${doc.id}.yaml: `, ''));
        }
      }),
      RUNS,
    );
    expect([...seen].sort()).toEqual(expect.arrayContaining(['201', 'invalid_tenant', 'silo_tenant']));
  });
});
