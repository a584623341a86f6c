/**
 * Review steps function: the tasks of the tenant's review state machine (and the scheduled queue
 * metrics). Input is the step event the state machine builds; errors keep their names so the state
 * machine's Retry and Catch can match them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { makeDynamoReviewQueue } from '../inference/adapters/dynamo-review-queue';
import { makeSfnReviewHandOff } from '../inference/adapters/sfn-review-handoff';
import { makeReviewSteps, type StepEvent } from '../review/steps';
import { makeReviewStore } from '../review/store';
import { makeKmsTokenCipher } from '../review/token-cipher';
import { requireEnv } from '../shared/env';
import { REVIEW_ENV, ReviewRuntimeConfigSchema } from '../shared/review-schema';
import { makeTelemetry } from '../shared/telemetry';
import { LEDGER_TABLE_ENV } from '../shared/tenant-runtime';

const config = ReviewRuntimeConfigSchema.parse(JSON.parse(requireEnv(REVIEW_ENV.review)));
const telemetry = makeTelemetry({ tenantId: config.tenantId, service: 'review-steps' });
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), {
  marshallOptions: { removeUndefinedValues: true },
});
const tableName = requireEnv(LEDGER_TABLE_ENV);
const steps = makeReviewSteps({
  config,
  store: makeReviewStore(doc, tableName),
  cipher: makeKmsTokenCipher(new KMSClient({ maxAttempts: 3 }), requireEnv(REVIEW_ENV.keyId)),
  telemetry,
  now: Date.now,
  fetch: (...args) => fetch(...args),
  handOff: makeSfnReviewHandOff(new SFNClient({ maxAttempts: 3 }), requireEnv(REVIEW_ENV.stateMachineArn)),
  queue: makeDynamoReviewQueue(doc, tableName),
});

/** Lambda entry point (invoked by Step Functions and by the queue-metrics schedule). */
export async function handler(event: StepEvent): Promise<unknown> {
  try {
    return await steps.run(event);
  } catch (e) {
    // Names and ids only: no prompt, answer or token is ever logged.
    telemetry.log('ERROR', 'review step failed', {
      step: event?.step,
      reviewId: event?.reviewId,
      error: (e as Error)?.name,
      errorMessage: String((e as Error)?.message ?? e).slice(0, 300),
    });
    throw e;
  }
}
