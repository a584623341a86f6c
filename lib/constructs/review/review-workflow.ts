/**
 * The human review state machine, shared by a silo tenant's review (./tenant-review.ts: one per tenant, its
 * timeouts fixed from its file) and a pool cell's (lib/constructs/pool/pool-cell-review.ts: one per cell, each
 * review's timeouts read from the execution's `RecordPending` result, every task told the tenant):
 *
 *   RecordPending → NotifyReviewers → AwaitDecision (task token; heartbeat and timeout) → ApplyDecision
 *   [→ CallWebhook], with the timeout policy on a timeout, RecordFailure on any failure after retries.
 *
 * States are created in `scope` with the ids they always had, so a template does not change with this function.
 */
import type { Duration } from 'aws-cdk-lib';
import { Duration as Dur } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { REVIEW_NOT_PENDING, type ReviewStep, TOKEN_NOT_SAVED } from '../../../lambda/shared/review-schema';
import { withLogDeliveryGuard } from '../key-policies';

/** Props of {@link defineReviewWorkflow}. */
export interface ReviewWorkflowProps {
  /** The review steps function (every Lambda task). */
  readonly steps: lambda.IFunction;
  /** The reviewers topic `NotifyReviewers` publishes to. */
  readonly topic: sns.ITopic;
  readonly notify: {
    readonly subject: string;
    readonly message: sfn.TaskInput;
    /** Message attributes (a pool cell's: the tenant, which subscription filter policies match). */
    readonly messageAttributes?: Record<string, tasks.MessageAttribute>;
  };
  /** How long `AwaitDecision` waits for a decision, and for a heartbeat. */
  readonly awaitDecision: { readonly heartbeat: sfn.Timeout; readonly timeout: sfn.Timeout };
  /**
   * Fields every Lambda task's payload adds (a pool cell's: `tenantId.$`).
   * @default - none
   */
  readonly payload?: Record<string, string>;
  /** Whether the reviews end with a webhook call (`CallWebhook`, `WebhookFailed`). */
  readonly webhook: boolean;
  readonly stateMachineName: string;
  /** The whole execution's timeout. */
  readonly timeout: Duration;
  /** The state machine's role. */
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  /** The key of the state machine's data and logs. */
  readonly key: kms.IKey;
}

/** Defines the review state machine in `scope` (see the file header). */
export function defineReviewWorkflow(scope: Construct, props: ReviewWorkflowProps): sfn.StateMachine {
  const payload = props.payload ?? {};
  /** A Lambda task of the steps function; its result lands at `resultPath` (default: the state's name). */
  const step = (
    name: string,
    s: ReviewStep | 'webhookFailed',
    fields: Record<string, string> = {},
    resultPath = `$.${name.charAt(0).toLowerCase()}${name.slice(1)}`,
  ) =>
    new tasks.LambdaInvoke(scope, name, {
      lambdaFunction: props.steps,
      payload: sfn.TaskInput.fromObject({
        step: s,
        'reviewId.$': '$.reviewId',
        'requestId.$': '$.requestId',
        ...payload,
        ...fields,
      }),
      resultSelector: { 'result.$': '$.Payload' },
      resultPath,
      retryOnServiceExceptions: true,
      taskTimeout: sfn.Timeout.duration(Dur.seconds(60)),
    });
  // Lambda throttling is not among the service exceptions `retryOnServiceExceptions` retries.
  const retryThrottling = <T extends sfn.TaskStateBase>(t: T): T => {
    t.addRetry({
      errors: ['Lambda.TooManyRequestsException'],
      maxAttempts: 6,
      interval: Dur.seconds(2),
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return t;
  };
  const withRetry = <T extends sfn.TaskStateBase>(t: T): T => {
    retryThrottling(t);
    t.addRetry({
      errors: ['States.TaskFailed'],
      maxAttempts: 3,
      interval: Dur.seconds(2),
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return t;
  };

  const recordFailure = new tasks.LambdaInvoke(scope, 'RecordFailure', {
    lambdaFunction: props.steps,
    payload: sfn.TaskInput.fromObject({
      step: 'recordFailure',
      'reviewId.$': '$.reviewId',
      'requestId.$': '$.requestId',
      ...payload,
      'error.$': '$.error',
    }),
    resultSelector: { 'outcome.$': '$.Payload.outcome' },
    resultPath: '$.recovered',
    retryOnServiceExceptions: true,
    taskTimeout: sfn.Timeout.duration(Dur.seconds(60)),
  });
  withRetry(recordFailure);
  const reviewFailed = new sfn.Fail(scope, 'ReviewFailed', {
    error: 'ReviewFailed',
    cause: 'A review step failed after its retries',
  });
  // RecordFailure applies a decision that was already made (the failure was in applying it); the review
  // then ends like any other decided review, webhook included. Otherwise the execution fails.
  const recovered = new sfn.Choice(scope, 'DecisionApplied');
  recordFailure.next(recovered);
  const catchAll = <T extends sfn.TaskStateBase>(t: T): T => {
    withRetry(t);
    t.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    return t;
  };

  const recordPending = catchAll(step('RecordPending', 'recordPending'));
  const notify = catchAll(
    new tasks.SnsPublish(scope, 'NotifyReviewers', {
      topic: props.topic,
      subject: props.notify.subject,
      message: props.notify.message,
      ...(props.notify.messageAttributes ? { messageAttributes: props.notify.messageAttributes } : {}),
      resultPath: sfn.JsonPath.DISCARD,
      taskTimeout: sfn.Timeout.duration(Dur.seconds(60)),
    }),
  );
  const awaitDecision = new tasks.LambdaInvoke(scope, 'AwaitDecision', {
    lambdaFunction: props.steps,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      step: 'awaitDecision',
      'reviewId.$': '$.reviewId',
      'requestId.$': '$.requestId',
      ...payload,
      taskToken: sfn.JsonPath.taskToken,
    }),
    resultPath: '$.decision',
    heartbeatTimeout: props.awaitDecision.heartbeat,
    taskTimeout: props.awaitDecision.timeout,
    retryOnServiceExceptions: true,
  });
  // Storing the token can fail transiently (DynamoDB, KMS, Lambda throttling): retried, each retry with a
  // new token. Named errors only: in a retrier `States.TaskFailed` also matches States.HeartbeatTimeout,
  // which must reach the timeout policy instead.
  awaitDecision.addRetry({
    errors: ['Lambda.TooManyRequestsException', TOKEN_NOT_SAVED],
    maxAttempts: 3,
    interval: Dur.seconds(2),
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  const applyTimeout = catchAll(step('ApplyTimeoutPolicy', 'applyTimeout', { 'error.$': '$.timeout' }, '$.outcome'));
  awaitDecision.addCatch(applyTimeout, {
    errors: [sfn.Errors.TIMEOUT, sfn.Errors.HEARTBEAT_TIMEOUT],
    resultPath: '$.timeout',
  });
  const applyDecision = catchAll(step('ApplyDecision', 'applyDecision', {}, '$.outcome'));
  // A decision recorded while the token step was being retried: nothing to wait for, apply it now.
  awaitDecision.addCatch(applyDecision, { errors: [REVIEW_NOT_PENDING], resultPath: '$.decision' });
  awaitDecision.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
  const done = new sfn.Succeed(scope, 'Done');
  let tail: sfn.IChainable = done;
  if (props.webhook) {
    const webhookFailed = retryThrottling(step('WebhookFailed', 'webhookFailed', { 'error.$': '$.webhookError' }));
    // Recording the webhook failure is best effort: the review outcome is already stored.
    webhookFailed.addCatch(done, { errors: ['States.ALL'], resultPath: sfn.JsonPath.DISCARD });
    webhookFailed.next(done);
    const callWebhook = retryThrottling(step('CallWebhook', 'callWebhook'));
    callWebhook.addRetry({
      errors: ['WebhookFailed'],
      maxAttempts: 3,
      interval: Dur.seconds(5),
      backoffRate: 3,
      jitterStrategy: sfn.JitterType.FULL,
    });
    callWebhook.addCatch(webhookFailed, { errors: ['States.ALL'], resultPath: '$.webhookError' });
    callWebhook.next(done);
    tail = callWebhook;
  }
  applyDecision.next(tail);
  applyTimeout.next(tail);
  recovered
    .when(
      sfn.Condition.or(
        ...['approved', 'edited', 'rejected', 'expired'].map((o) =>
          sfn.Condition.stringEquals('$.recovered.outcome', o),
        ),
      ),
      tail,
    )
    .otherwise(reviewFailed);

  const definition = recordPending.next(notify).next(awaitDecision).next(applyDecision);
  return new sfn.StateMachine(scope, 'Workflow', {
    stateMachineName: props.stateMachineName,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    timeout: props.timeout,
    tracingEnabled: true,
    role: props.role,
    logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    // The log-delivery statement the state machine adds to the key gets the documented source guard.
    encryptionConfiguration: new sfn.CustomerManagedEncryptionConfiguration(withLogDeliveryGuard(props.key)),
  });
}
