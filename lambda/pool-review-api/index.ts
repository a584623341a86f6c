/**
 * Review API function of a pool cell (API Gateway proxy, IAM-authorized routes under
 * `/v1/tenants/{tenantId}/reviews`): the composition root of lambda/pool-review/runtime.ts.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { poolReviewDepsFromEnv } from '../pool-review/environment';
import { makePoolReviewApi } from '../pool-review/runtime';
import { makeSfnTaskCallbacks } from '../review/adapters/sfn-task-callbacks';
import { CONSOLE_ENV, consoleSignInFromEnv } from '../review/http/console-assets';

/** Lambda entry point. */
export const handler = makePoolReviewApi({
  ...poolReviewDepsFromEnv('review-api'),
  tasks: makeSfnTaskCallbacks(new SFNClient({ maxAttempts: 3 })),
  consoleSignIn: consoleSignInFromEnv(process.env[CONSOLE_ENV]),
});
