/**
 * Review steps function (the composition root): the tasks of the tenant's review state machine (and the
 * scheduled sweep), run by lambda/review/core/steps.ts on the adapters built here. Input is the step event
 * the state machine builds; errors keep their names so the state machine's Retry and Catch can match them.
 */
import type * as https from 'node:https';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { makeReviewStore } from '../review/adapters/dynamo-review-store';
import { makeKmsTokenCipher } from '../review/adapters/kms-token-cipher';
import { type Resolver, systemResolver } from '../review/adapters/webhook-delivery';
import { makeSecretsManagerWebhookSecret } from '../review/adapters/webhook-secret';
import { makeWebhookSender } from '../review/adapters/webhook-sender';
import { stepNameOf } from '../review/core/step-event';
import { makeReviewSteps } from '../review/core/steps';
import { ledgerDocumentClient } from '../shared/dynamo';
import { makeDynamoReviewQueue } from '../shared/dynamo-review-queue';
import { requireEnv } from '../shared/env';
import { REVIEW_ENV, ReviewRuntimeConfigSchema } from '../shared/review-schema';
import { makeSfnReviewHandOff } from '../shared/sfn-review-handoff';
import { makeTelemetry } from '../shared/telemetry';
import { LEDGER_TABLE_ENV } from '../shared/tenant-runtime';
import { checkWebhookUrl } from '../shared/webhook-url';

const config = ReviewRuntimeConfigSchema.parse(JSON.parse(requireEnv(REVIEW_ENV.review)));
const telemetry = makeTelemetry({ tenantId: config.tenantId, service: 'review-steps' });
const doc = ledgerDocumentClient();
const tableName = requireEnv(LEDGER_TABLE_ENV);
const store = makeReviewStore(doc, tableName);
const queue = makeDynamoReviewQueue(doc, tableName);
const cipher = makeKmsTokenCipher(new KMSClient({ maxAttempts: 3 }), requireEnv(REVIEW_ENV.keyId));
const handOff = makeSfnReviewHandOff(new SFNClient({ maxAttempts: 3 }), requireEnv(REVIEW_ENV.stateMachineArn));

/** The tenant's declared webhook origin (checked again here: the template is the only other guard). */
function webhookOrigin(): string | undefined {
  if (config.webhookOrigin === undefined) return undefined;
  const checked = checkWebhookUrl(config.webhookOrigin, 'origin');
  if (!checked.ok) throw new Error(`${REVIEW_ENV.review}: webhookOrigin ${checked.problem}`);
  return checked.origin;
}
const origin = webhookOrigin();
const webhookSecret = origin
  ? makeSecretsManagerWebhookSecret(
      new SecretsManagerClient({ maxAttempts: 3 }),
      requireEnv(REVIEW_ENV.webhookSecret),
      Date.now,
    )
  : undefined;

/**
 * How webhook deliveries reach the network. Production: the system resolver and a fresh agent per delivery.
 * Tests running the packaged handler on loopback pass a resolver for their test host names and an agent that
 * trusts their test CA. The URL and address policies are not among these ports: nothing turns them off.
 */
export interface WebhookNetwork {
  readonly resolve: Resolver;
  readonly agent?: () => https.Agent;
}

/** Builds the Lambda handler with the given webhook network (the composition root). */
export function makeHandler(network: WebhookNetwork = { resolve: systemResolver }) {
  const steps = makeReviewSteps({
    config,
    store,
    cipher,
    telemetry,
    now: Date.now,
    handOff,
    queue,
    ...(origin && webhookSecret
      ? {
          webhook: makeWebhookSender({
            origin,
            secret: webhookSecret,
            resolve: network.resolve,
            agent: network.agent,
            now: Date.now,
          }),
        }
      : {}),
  });
  return async (event: unknown): Promise<unknown> => {
    try {
      return await steps.run(event);
    } catch (e) {
      // Names and ids only: no prompt, answer, token or webhook URL is ever logged.
      telemetry.log('ERROR', 'review step failed', {
        step: stepNameOf(event),
        reviewId: (event as { reviewId?: unknown } | undefined)?.reviewId,
        error: (e as Error)?.name,
        errorMessage: String((e as Error)?.message ?? e).slice(0, 300),
      });
      throw e;
    }
  };
}

/** Lambda entry point (invoked by Step Functions and by the queue-metrics schedule). */
export const handler = makeHandler();
