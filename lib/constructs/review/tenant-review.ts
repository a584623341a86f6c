import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
// The code of the two review functions (type-only imports: nothing of the handlers runs at synth).
import type * as reviewApiCode from '../../../lambda/review-api/index';
import type * as reviewStepsCode from '../../../lambda/review-steps/index';
import { REVIEW_ENV, TASK_TOKEN_CONTEXT_KEY, TASK_TOKEN_CONTEXT_VALUE } from '../../../lambda/shared/review-schema';
import { LEDGER_TABLE_ENV } from '../../../lambda/shared/tenant-runtime';
import { acknowledge } from '../../compliance/acknowledge';
import { toReviewRuntimeConfig } from '../../config/runtime-config';
import type { TenantConfig } from '../../config/tenant-config';
import { handlerOf } from '../bundling';
import { TenantFunction } from '../functions/tenant-function';
import { ManagedPolicyRole } from '../iam/managed-policy-role';
import type { TenantData } from '../tenant-data/tenant-data';
import { deploymentUniqueSuffix } from '../unique-names';
import { defineReviewWorkflow } from './review-workflow';
import { WebhookSecret } from './webhook-secret';

/** Props of {@link TenantReview}. */
export interface TenantReviewProps {
  readonly tenant: TenantConfig;
  readonly data: TenantData;
  /** Shared customer-managed policies for the functions (X-Ray). */
  readonly sharedPolicies: readonly iam.IManagedPolicy[];
  /**
   * Shared customer-managed policies for the state machine role: X-Ray and the vended log delivery a logging
   * state machine needs (function roles never get the latter).
   * @default - sharedPolicies
   */
  readonly stateMachinePolicies?: readonly iam.IManagedPolicy[];
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * IAM roles (name with optional path) that may set the webhook URL and read or rotate its signing key.
   * @default - none (a tenant with a webhook needs at least one: see the tenant deployment rules)
   */
  readonly webhookOperatorRoles?: readonly string[];
}

/** Margin of the whole execution over the decision wait (notify, apply, webhook with retries). */

/**
 * A tenant's human review workflow: a Standard state machine that records a review as pending, notifies
 * the reviewers (KMS-encrypted SNS topic, one email subscription per reviewer in the tenant file; the
 * message carries the review id and path only), waits for a person's decision with a task token
 * (heartbeat and timeout from the tenant file), applies it (or the tenant's timeout policy), optionally
 * tells the tenant's webhook, and records `failed` if any step fails after its retries.
 *
 * Two functions with separate roles: the steps function (the state machine's tasks; may encrypt task
 * tokens) and the review API function (list, show, decide, export; the only role that can decrypt a token, and
 * that can send task success, failure or heartbeat, only for this state machine).
 */
export class TenantReview extends Construct {
  /** The five-minute schedule of the tenant's housekeeping; other constructs may add targets to it. */
  readonly housekeeping: events.Rule;
  readonly stateMachine: sfn.StateMachine;
  readonly topic: sns.Topic;
  readonly steps: TenantFunction;
  readonly api: TenantFunction;
  readonly logGroup: logs.ILogGroup;
  /** The webhook's URL and signing key, when the tenant file declares a webhook. */
  readonly webhookSecret?: WebhookSecret;

  constructor(scope: Construct, id: string, props: TenantReviewProps) {
    super(scope, id);
    const { tenant, data } = props;
    const esc = tenant.escalation;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const reviewConfig = toReviewRuntimeConfig(tenant);
    // The state machine's ARN from its name (no reference to the resource: it invokes the steps function,
    // whose role may start it again for hand-offs that failed — a reference would be a cycle). The name ends
    // in a suffix new with every stack: a deleted state machine keeps its name while executions still run.
    const stateMachineName = `switchboard-${tenant.id}-review-${deploymentUniqueSuffix()}`;
    const stateMachineArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const environment = {
      [LEDGER_TABLE_ENV]: data.table.tableName,
      [REVIEW_ENV.stateMachineArn]: stateMachineArn,
      [REVIEW_ENV.review]: JSON.stringify(reviewConfig),
      [REVIEW_ENV.keyId]: data.key.keyArn,
    };

    this.topic = new sns.Topic(this, 'Reviewers', {
      displayName: `Switchboard ${tenant.id}: answers waiting for review`,
      masterKey: data.key,
      enforceSSL: true,
    });
    for (const email of esc.reviewerEmails) this.topic.addSubscription(new subs.EmailSubscription(email));

    // The webhook's full URL lives only in this secret (set after deploying): not in the template, not in an
    // environment variable.
    this.webhookSecret = esc.webhook
      ? new WebhookSecret(this, 'WebhookSecret', {
          tenantId: tenant.id,
          data,
          operatorRoles: props.webhookOperatorRoles ?? [],
        })
      : undefined;
    this.steps = new TenantFunction(this, 'Steps', {
      tenantId: tenant.id,
      handler: handlerOf<typeof reviewStepsCode>('review-steps'),
      purpose: 'review workflow steps',
      calls: esc.webhook
        ? `AWS public service endpoints (DynamoDB, KMS, Step Functions, Secrets Manager, CloudWatch) with SigV4 and the tenant's review webhook on the internet (https only, on ${esc.webhook.origin}, public addresses only, signed, redirects not followed)`
        : 'only AWS public service endpoints (DynamoDB, KMS, Step Functions, CloudWatch) with SigV4',
      key: data.key,
      sharedPolicies: props.sharedPolicies,
      environment: this.webhookSecret
        ? { ...environment, [REVIEW_ENV.webhookSecret]: this.webhookSecret.secretArn }
        : environment,
      timeout: Duration.seconds(30),
      logRetention: retention,
    });
    this.api = new TenantFunction(this, 'Api', {
      tenantId: tenant.id,
      handler: handlerOf<typeof reviewApiCode>('review-api'),
      purpose: 'review API (list, show, decide, export)',
      calls: 'only AWS public service endpoints (DynamoDB, KMS, Step Functions) with SigV4',
      key: data.key,
      sharedPolicies: props.sharedPolicies,
      environment,
      timeout: Duration.seconds(29),
      logRetention: retention,
    });
    data.grantLedgerReadWrite(this.steps, 'reviewSteps');
    data.grantLedgerReadWrite(this.api, 'reviewApi');
    this.webhookSecret?.allowDelivery(this.steps);
    // Task tokens: the steps role encrypts them, only the review API role can decrypt them (key policy deny).
    const tokenContext = { [`kms:EncryptionContext:${TASK_TOKEN_CONTEXT_KEY}`]: TASK_TOKEN_CONTEXT_VALUE };
    this.steps.addStatements(
      new iam.PolicyStatement({
        sid: 'RestartFailedHandOffs',
        actions: ['states:StartExecution'],
        resources: [stateMachineArn],
      }),
      new iam.PolicyStatement({
        sid: 'EncryptTaskTokens',
        actions: ['kms:Encrypt'],
        resources: [data.key.keyArn],
        conditions: { StringEquals: tokenContext },
      }),
    );
    this.api.addStatements(
      new iam.PolicyStatement({
        sid: 'DecryptTaskTokens',
        actions: ['kms:Decrypt'],
        resources: [data.key.keyArn],
        conditions: { StringEquals: tokenContext },
      }),
    );
    data.restrictDecryptByPurpose(TASK_TOKEN_CONTEXT_KEY, TASK_TOKEN_CONTEXT_VALUE, this.api.roleArn);

    const role = new ManagedPolicyRole(this, 'WorkflowRole', {
      // Confused-deputy guard as Step Functions documents it: only this state machine of this account may have the
      // service assume the role (another state machine, even one a principal of this account may pass the role
      // to, cannot). https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html#prevent-cross-service-confused-deputy
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': stateMachineArn },
        },
      }),
      description: `Switchboard ${tenant.id}: review state machine`,
      sharedPolicies: props.stateMachinePolicies ?? props.sharedPolicies,
    });
    data.grantKeyUse(role); // publish to the encrypted topic
    this.logGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      // Vended-log groups need the /aws/vendedlogs/ prefix; retained, so unique per stack like the name above.
      logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: data.key,
      retention,
    });

    this.stateMachine = defineReviewWorkflow(this, {
      steps: this.steps.fn,
      topic: this.topic,
      notify: {
        subject: `Switchboard ${tenant.id}: an answer is waiting for review`,
        message: sfn.TaskInput.fromJsonPathAt(
          `States.Format('Review {} of request {} is waiting for a decision. Open it with GET /v1/reviews/{} (reviewer credentials). It expires ${esc.reviewTimeoutMinutes} minutes after it was created at the latest, and earlier if nobody opens it for ${esc.reviewHeartbeatMinutes} minutes.', $.reviewId, $.requestId, $.reviewId)`,
        ),
      },
      awaitDecision: {
        heartbeat: sfn.Timeout.duration(Duration.minutes(esc.reviewHeartbeatMinutes)),
        timeout: sfn.Timeout.duration(Duration.minutes(esc.reviewTimeoutMinutes)),
      },
      webhook: esc.webhook !== undefined,
      stateMachineName,
      timeout: Duration.seconds(reviewConfig.executionTimeoutSeconds),
      role: role.boundRole,
      logGroup: this.logGroup,
      key: data.key,
    });

    this.stateMachine.grantTaskResponse(this.api);
    // The workflow role's permissions, written out (the construct cannot add any to the bound role): the
    // steps function (unqualified ARN only), the reviewers topic; key use is granted above; X-Ray and log
    // delivery come from the shared platform policies (stateMachinePolicies).
    role.addStatements(
      new iam.PolicyStatement({
        sid: 'InvokeReviewSteps',
        actions: ['lambda:InvokeFunction'],
        resources: [this.steps.fn.functionArn],
      }),
      new iam.PolicyStatement({ sid: 'NotifyReviewers', actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );

    // The review sweep every five minutes (queue metrics for dashboards and alarms, failed hand-offs restarted,
    // orphaned reviews failed, unapplied decisions applied, queue places given back). The stack's other
    // housekeeping (the ledger reconciliation) runs on the same schedule (`housekeeping`).
    const housekeeping = new events.Rule(this, 'Housekeeping', {
      description: `Switchboard ${tenant.id}: housekeeping (review sweep)`,
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [
        new targets.LambdaFunction(this.steps.fn, {
          event: events.RuleTargetInput.fromObject({ step: 'sweep' }),
          retryAttempts: 0,
        }),
      ],
    });

    acknowledge(
      housekeeping,
      'Serverless-EventBusDLQ',
      'The schedule only triggers housekeeping every five minutes (queue metrics, restarting failed hand-offs, the ledger reconciliation); every run is idempotent and repeats in full what a missed one would have done, and the events carry no data, so a dead-letter queue would hold nothing worth replaying.',
    );
    this.housekeeping = housekeeping;
    for (const sub of this.topic.node.children.filter((c) => c instanceof sns.Subscription)) {
      acknowledge(
        sub,
        'Serverless-SNSRedrivePolicy',
        'Reviewer e-mail is a courtesy notification: an undelivered message loses nothing, because the review stays listed in GET /v1/reviews?status=pending and the oldest-pending-review alarm fires when nobody acts in time.',
      );
    }
  }
}
