/**
 * Per-tenant admission for pooled tenants: each pooled tenant keeps its own request rate and its own request
 * quota per period, enforced by Switchboard, not by API Gateway.
 *
 * Why not API Gateway usage plans: a usage plan limits a caller through its API key, and an account holds at most
 * 10,000 API keys per Region, a quota that cannot be increased
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html).
 * Silo tenants use one key each; 10,000 pooled tenants per Region would not fit beside them. Pooled tenants are
 * identified by the pool authorizer instead, and admitted here.
 *
 * How: fixed windows on single-item conditional updates (atomic under any concurrency, one write per window per
 * request, no transaction). The rate window lasts `burstLimit / rateLimit` seconds and admits `burstLimit`
 * requests: on average `rateLimit` per second, at most `burstLimit` at once (up to twice that across a window
 * boundary, the price of fixed windows). The quota window is the tenant's period (UTC day, ISO week from Monday,
 * month) and admits `quota.limit`. A tenant's windows are its own items, so one tenant's traffic never uses
 * another's allowance.
 *
 * Ceiling: one tenant's rate items live under one partition key, and a DynamoDB partition takes at most 1,000
 * write units per second
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html), so a pooled
 * tenant's rate limit is at most {@link POOLED_RATE_CEILING_PER_SECOND}; a tenant that needs more is a silo.
 */
import type { QuotaPeriod } from './tenant-vocabulary';

/** Highest rate limit (requests per second) a pooled tenant may have: see the file header. */
export const POOLED_RATE_CEILING_PER_SECOND = 1_000;

/** What a pooled tenant may send (the same fields as the tenant file's `throttle` and `quota`). */
export interface AdmissionLimits {
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly quota: { readonly limit: number; readonly period: QuotaPeriod };
}

/** One counting window: the item it counts on, what it admits, and when it ends. */
export interface AdmissionWindow {
  readonly kind: 'rate' | 'quota';
  /** Sort key of the window's item (its start, so each window is its own item). */
  readonly key: string;
  readonly limit: number;
  /** Epoch ms at which the window ends (the next one starts). */
  readonly endsAtMs: number;
}

/** The port: adds one to a window's count unless it has reached its limit (`false` then; nothing changes). */
export interface AdmissionCounter {
  take(tenantId: string, window: AdmissionWindow): Promise<boolean>;
}

/** Why a request was not admitted: the error code and when to try again. */
export interface Refusal {
  readonly code: 'throttled' | 'quota_exceeded';
  readonly message: string;
  readonly retryAfterSeconds: number;
}

const DAY_MS = 86_400_000;

/** Start (epoch ms, UTC) of the quota period `at` falls in. */
function periodStart(period: QuotaPeriod, at: number): { start: number; end: number } {
  const d = new Date(at);
  if (period === 'MONTH') {
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    return { start, end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
  }
  const day = Math.floor(at / DAY_MS) * DAY_MS;
  if (period === 'DAY') return { start: day, end: day + DAY_MS };
  // ISO weeks start on Monday: getUTCDay() is 0 on Sunday.
  const start = day - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  return { start, end: start + 7 * DAY_MS };
}

/** The two windows a request at `at` counts against: the rate window, then the quota window. */
export function admissionWindows(limits: AdmissionLimits, at: number): [AdmissionWindow, AdmissionWindow] {
  const windowMs = Math.max(1, Math.round((limits.burstLimit / limits.rateLimit) * 1_000));
  const rateStart = Math.floor(at / windowMs) * windowMs;
  const period = periodStart(limits.quota.period, at);
  return [
    { kind: 'rate', key: `rate#${windowMs}#${rateStart}`, limit: limits.burstLimit, endsAtMs: rateStart + windowMs },
    {
      kind: 'quota',
      key: `quota#${limits.quota.period}#${new Date(period.start).toISOString().slice(0, 10)}`,
      limit: limits.quota.limit,
      endsAtMs: period.end,
    },
  ];
}

/**
 * Admits one request of a pooled tenant, or says why not. The rate window is taken first, so a tenant over its
 * rate does not use up its quota; a request refused by the quota has used one place of its rate window.
 */
export async function admit(
  counter: AdmissionCounter,
  tenantId: string,
  limits: AdmissionLimits,
  at: number,
): Promise<Refusal | undefined> {
  const [rate, quota] = admissionWindows(limits, at);
  if (!(await counter.take(tenantId, rate))) {
    return {
      code: 'throttled',
      message: `Rate limit of ${limits.rateLimit} requests per second (bursts of ${limits.burstLimit}) reached; slow down`,
      retryAfterSeconds: Math.max(1, Math.ceil((rate.endsAtMs - at) / 1_000)),
    };
  }
  if (!(await counter.take(tenantId, quota))) {
    return {
      code: 'quota_exceeded',
      message: `Quota of ${limits.quota.limit} requests per ${limits.quota.period.toLowerCase()} reached; it renews at ${new Date(quota.endsAtMs).toISOString()}`,
      retryAfterSeconds: Math.max(1, Math.ceil((quota.endsAtMs - at) / 1_000)),
    };
  }
  return undefined;
}
