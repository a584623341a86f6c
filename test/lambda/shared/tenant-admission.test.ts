/**
 * Pooled tenants' own rate limits and quotas (lambda/shared/tenant-admission.ts) on dynalite: a tenant sending
 * ten times its rate is held to its own allowance and does not lower another tenant's success rate.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { ledgerDocumentClient } from '../../../lambda/shared/dynamo';
import { admissionKey, makeDynamoAdmissionCounter } from '../../../lambda/shared/dynamo-admission';
import { LEDGER_KEYS } from '../../../lambda/shared/ledger-schema';
import {
  type AdmissionCounter,
  type AdmissionLimits,
  admissionWindows,
  admit,
  POOLED_RATE_CEILING_PER_SECOND,
} from '../../../lambda/shared/tenant-admission';
import { PLANS } from '../../../lambda/shared/tenant-vocabulary';
import { PLAN_DEFAULTS } from '../../../lib/config/plan-defaults';
import { DynaliteServer } from '../../support/dynalite-server';

const dynalite = new DynaliteServer();
const TABLE = 'pool-admission';
let counter: AdmissionCounter;

beforeAll(async () => {
  await dynalite.start();
  const attr = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' });
  await dynalite.createTableFromTemplate(
    {
      Resources: {
        Ledger: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            KeySchema: [
              { AttributeName: LEDGER_KEYS.partitionKey, KeyType: 'HASH' },
              { AttributeName: LEDGER_KEYS.sortKey, KeyType: 'RANGE' },
            ],
            AttributeDefinitions: [attr(LEDGER_KEYS.partitionKey), attr(LEDGER_KEYS.sortKey)],
          },
        },
      },
    },
    'Ledger',
    TABLE,
  );
  counter = makeDynamoAdmissionCounter(ledgerDocumentClient(dynalite.dynamo), TABLE);
});
afterAll(() => dynalite.stop());

const BASIC: AdmissionLimits = { rateLimit: 5, burstLimit: 10, quota: { limit: 50_000, period: 'MONTH' } };
/** 2026-12-02T10:00:00.000Z, the start of a 2-second rate window. */
const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);

describe('admission windows', () => {
  it('admit burstLimit per burstLimit/rateLimit seconds, and count quotas per UTC day, ISO week and month', () => {
    const [rate, month] = admissionWindows(BASIC, T0 + 1_500);
    expect(rate).toEqual({ kind: 'rate', key: `rate#2000#${T0}`, limit: 10, endsAtMs: T0 + 2_000 });
    expect(month).toMatchObject({ key: 'quota#MONTH#2026-12-01', endsAtMs: Date.UTC(2027, 0, 1) });
    // 2026-12-02 is a Wednesday: its ISO week started on Monday 2026-11-30.
    const week = admissionWindows({ ...BASIC, quota: { limit: 1, period: 'WEEK' } }, T0)[1];
    expect(week).toMatchObject({ key: 'quota#WEEK#2026-11-30', endsAtMs: Date.UTC(2026, 11, 7) });
    const day = admissionWindows({ ...BASIC, quota: { limit: 1, period: 'DAY' } }, T0)[1];
    expect(day).toMatchObject({ key: 'quota#DAY#2026-12-02', endsAtMs: Date.UTC(2026, 11, 3) });
  });

  it('every plan that a pooled tenant may have stays under the per-tenant ceiling of one DynamoDB partition', () => {
    for (const plan of PLANS) {
      expect(PLAN_DEFAULTS[plan].throttle.rateLimit).toBeLessThanOrEqual(POOLED_RATE_CEILING_PER_SECOND);
      expect(PLAN_DEFAULTS[plan].throttle.burstLimit).toBeGreaterThanOrEqual(PLAN_DEFAULTS[plan].throttle.rateLimit);
    }
  });
});

describe('noisy neighbours on dynalite', () => {
  it('a tenant sending ten times its burst gets exactly its allowance; the other tenant loses nothing', async () => {
    const loud = Array.from({ length: 100 }, () => admit(counter, 'loud', BASIC, T0 + 100));
    const quiet = Array.from({ length: 10 }, () => admit(counter, 'quiet', BASIC, T0 + 100));
    const [l, q] = await Promise.all([Promise.all(loud), Promise.all(quiet)]);
    expect(l.filter((r) => r === undefined)).toHaveLength(10);
    expect(q.filter((r) => r === undefined)).toHaveLength(10);
    const refused = l.find((r) => r !== undefined)!;
    expect(refused).toEqual({
      code: 'throttled',
      message: 'Rate limit of 5 requests per second (bursts of 10) reached; slow down',
      retryAfterSeconds: 2,
    });
    // The next window admits the loud tenant again.
    expect(await admit(counter, 'loud', BASIC, T0 + 2_000)).toBeUndefined();
  });

  it('a quota is counted per period and renews when the period does, with the wait in the refusal', async () => {
    const limits: AdmissionLimits = { rateLimit: 100, burstLimit: 100, quota: { limit: 3, period: 'DAY' } };
    for (let i = 0; i < 3; i++) expect(await admit(counter, 'daily', limits, T0 + i)).toBeUndefined();
    const refusal = await admit(counter, 'daily', limits, T0 + 10);
    expect(refusal?.code).toBe('quota_exceeded');
    expect(refusal?.retryAfterSeconds).toBe(Math.ceil((Date.UTC(2026, 11, 3) - (T0 + 10)) / 1_000));
    expect(refusal?.message).toContain('renews at 2026-12-03T00:00:00.000Z');
    expect(await admit(counter, 'daily', limits, Date.UTC(2026, 11, 3, 0, 0, 1))).toBeUndefined();
  });

  it('keeps each tenant on its own pooled items (T#<tenant>#ADMIT), which expire a day after their window', async () => {
    const [rate] = admissionWindows(BASIC, T0 + 100);
    expect(admissionKey('quiet', rate).pk).toBe('T#quiet#ADMIT');
    const res = await dynalite.dynamo.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: admissionKey('quiet', rate).pk }, sk: { S: rate.key } },
        ConsistentRead: true,
      }),
    );
    expect(res.Item?.count?.N).toBe('10');
    expect(Number(res.Item?.[LEDGER_KEYS.ttlAttribute]?.N)).toBe((T0 + 2_000) / 1_000 + 86_400);
  });
});

describe('generated traffic (in-memory counter)', () => {
  /** The same conditional count as DynamoDB's, in memory. */
  function memoryCounter(): AdmissionCounter {
    const counts = new Map<string, number>();
    return {
      async take(tenantId, w) {
        const k = `${tenantId}|${w.key}`;
        const n = counts.get(k) ?? 0;
        if (n >= w.limit) return false;
        counts.set(k, n + 1);
        return true;
      },
    };
  }

  it('never admits more than burstLimit per rate window, and a tenant within its rate is never refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 20 }),
        async (loudTimes, rate) => {
          const limits: AdmissionLimits = {
            rateLimit: rate,
            burstLimit: rate * 2,
            quota: { limit: 1e9, period: 'MONTH' },
          };
          const c = memoryCounter();
          const admittedPerWindow = new Map<string, number>();
          // The quiet tenant sends one request per second (within its rate), interleaved in time with the loud one.
          const events = [
            ...loudTimes.map((t) => ({ t, who: 'loud' })),
            ...Array.from({ length: 21 }, (_, i) => ({ t: i * 1_000, who: 'quiet' })),
          ].sort((a, b) => a.t - b.t);
          for (const { t, who } of events) {
            const refusal = await admit(c, who, limits, T0 + t);
            if (who === 'quiet') expect(refusal).toBeUndefined();
            else if (refusal === undefined) {
              const key = admissionWindows(limits, T0 + t)[0].key;
              admittedPerWindow.set(key, (admittedPerWindow.get(key) ?? 0) + 1);
            }
          }
          for (const n of admittedPerWindow.values()) expect(n).toBeLessThanOrEqual(limits.burstLimit);
        },
      ),
      { seed: Number(process.env.FC_SEED ?? 20261202), numRuns: 200 },
    );
  });
});
