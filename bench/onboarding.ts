/**
 * Onboarding a pooled tenant on the local parts: `POST /v1/tenants` through the control plane handler, the real
 * DynamoDB registry adapter on dynalite, then the authorizer's key lookup (`lookupApiKey`) accepting the new key.
 * The target (≤ 1 s) runs to the tenant's first answered request: ./onboard-first-answer.ts measures
 * that, through the pool authorizer's and the pool function's bundles; this one stops at the key being accepted.
 */
import { performance } from 'node:perf_hooks';
import { pooled, registryServer } from '../test/lambda/control-plane/registry-harness';
import { atMost, type Check, percentile } from './stats';

export interface OnboardingResults {
  readonly tenants: number;
  readonly postP50Ms: number;
  readonly postP95Ms: number;
  readonly toKeyAcceptedP50Ms: number;
  readonly toKeyAcceptedMaxMs: number;
  readonly checks: Check[];
}

/** Onboards `tenants` tenants one after the other (after a few warm-up ones) and times each. */
export async function benchOnboarding(opts: { tenants: number; log: (s: string) => void }): Promise<OnboardingResults> {
  const server = registryServer([{ id: 'pool-1', capacity: 1_000_000 }]);
  await server.start();
  try {
    const h = await server.harness();
    for (let i = 0; i < 10; i++) await h.call({ method: 'POST', path: '/v1/tenants', body: pooled(`warm-${i}`) });
    const post: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < opts.tenants; i++) {
      const started = performance.now();
      const res = await h.call({ method: 'POST', path: '/v1/tenants', body: pooled(`bench-${i}`) });
      post.push(performance.now() - started);
      if (res.status !== 201 || !(await h.usable(res.body.apiKey))) throw new Error(`onboarding ${i} failed`);
      total.push(performance.now() - started);
    }
    opts.log(`onboarded ${opts.tenants} tenants`);
    const round = (x: number) => Math.round(x * 100) / 100;
    const p50 = round(percentile(total, 50));
    return {
      tenants: opts.tenants,
      postP50Ms: round(percentile(post, 50)),
      postP95Ms: round(percentile(post, 95)),
      toKeyAcceptedP50Ms: p50,
      toKeyAcceptedMaxMs: round(Math.max(...total)),
      checks: [
        atMost(
          'onboarding',
          'Onboard a pooled tenant → key accepted (p50, local parts)',
          p50,
          1000,
          'ms',
          '≤ 1 s',
          'to the authorizer accepting the key; to the first answered request: onboarding.first-answer',
        ),
      ],
    };
  } finally {
    await server.stop();
  }
}
