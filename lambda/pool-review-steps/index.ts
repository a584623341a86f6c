/**
 * Review steps function of a pool cell (the composition root): the tasks of the cell's review state machine for
 * every pooled tenant of the cell, and the cell's scheduled review sweep (lambda/pool-review/runtime.ts). Errors
 * keep their names so the state machine's Retry and Catch can match them.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { poolReviewDepsFromEnv } from '../pool-review/environment';
import { makePoolReviewSteps } from '../pool-review/runtime';
import { stepNameOf } from '../review/core/step-event';
import { requireEnv } from '../shared/env';
import { REVIEW_ENV } from '../shared/review-schema';
import { makeSfnReviewHandOff } from '../shared/sfn-review-handoff';

const deps = poolReviewDepsFromEnv('review-steps');
const steps = makePoolReviewSteps({
  ...deps,
  handOff: makeSfnReviewHandOff(new SFNClient({ maxAttempts: 3 }), requireEnv(REVIEW_ENV.stateMachineArn)),
});

/** Lambda entry point (invoked by Step Functions and by the housekeeping schedule). */
export async function handler(event: unknown, context?: Partial<Context>): Promise<unknown> {
  try {
    return await steps.run(event, context);
  } catch (e) {
    // Names and ids only: no prompt, answer or token is ever logged.
    const ids = (event ?? {}) as { tenantId?: unknown; reviewId?: unknown };
    deps.telemetry.log('ERROR', 'review step failed', {
      step: stepNameOf(event),
      tenantId: typeof ids.tenantId === 'string' ? ids.tenantId.slice(0, 64) : undefined,
      reviewId: typeof ids.reviewId === 'string' ? ids.reviewId.slice(0, 100) : undefined,
      error: (e as Error)?.name,
      errorMessage: String((e as Error)?.message ?? e).slice(0, 300),
    });
    throw e;
  }
}
