/**
 * Review API function (API Gateway proxy, IAM-authorized routes under /v1/reviews): the composition root.
 * It builds the adapters once per container and hands them to the review API (lambda/review/http).
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import { makeReviewStore } from '../review/adapters/dynamo-review-store';
import { makeKmsTokenCipher } from '../review/adapters/kms-token-cipher';
import { makeSfnTaskCallbacks } from '../review/adapters/sfn-task-callbacks';
import { CONSOLE_ENV, consoleSignInFromEnv } from '../review/http/console-assets';
import { makeReviewHandler } from '../review/http/handler';
import { makeReviewApi } from '../review/http/review-api';
import { ledgerDocumentClient } from '../shared/dynamo';
import { requireEnv } from '../shared/env';
import { REVIEW_ENV, ReviewRuntimeConfigSchema } from '../shared/review-schema';
import { makeTelemetry } from '../shared/telemetry';
import { LEDGER_TABLE_ENV } from '../shared/tenant-runtime';

const config = ReviewRuntimeConfigSchema.parse(JSON.parse(requireEnv(REVIEW_ENV.review)));
const telemetry = makeTelemetry({ tenantId: config.tenantId, service: 'review-api' });
const api = makeReviewApi({
  store: makeReviewStore(ledgerDocumentClient(), requireEnv(LEDGER_TABLE_ENV)),
  cipher: makeKmsTokenCipher(new KMSClient({ maxAttempts: 3 }), requireEnv(REVIEW_ENV.keyId)),
  tasks: makeSfnTaskCallbacks(new SFNClient({ maxAttempts: 3 })),
  telemetry,
  now: Date.now,
});

/** Lambda entry point. */
export const handler = makeReviewHandler(api, telemetry, config.tenantId, {
  signIn: consoleSignInFromEnv(process.env[CONSOLE_ENV]),
});
