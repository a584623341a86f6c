import { Duration, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { CONTROL_PLANE_ENV } from '../../../lambda/control-plane/config';
// The code this function runs (type-only import: nothing of the handler runs at synth).
import type * as controlPlaneCode from '../../../lambda/control-plane/index';
import {
  FLUSH_AUTHORIZERS_CACHE_ACTION,
  flushAuthorizersCacheArn,
  LEDGER_KEYS_ONLY_SCAN,
  TENANT_ACCESS_ASSUME_ACTIONS,
} from '../../../lambda/shared/control-plane-iam';
import { type PoolCellEnv, reviewersTopicName } from '../../../lambda/shared/pool-runtime';
import { REGISTRY_TABLE_ENV } from '../../../lambda/shared/registry-schema';
import { acknowledge, acknowledgeInRegulatedPacks, nagArnPrefix } from '../../compliance/acknowledge';
import { handlerOf } from '../bundling';
import { TenantFunction } from '../functions/tenant-function';
import type { ReviewerDirectory } from '../review/reviewer-directory';
import {
  addErrorEnvelopeResponses,
  addExecutionLogGroup,
  apiAccessLogGroup,
  observedStageOptions,
} from '../tenant-api/tenant-api';
import { controlPlaneRoleName } from './names';
import type { TenantRegistry } from './tenant-registry';

/** What the control plane needs of one pool cell: where it places tenants and what it touches for them. */
export interface PoolCellTarget {
  /** The cell id (`pool-1`). */
  readonly id: string;
  /** Tenants the cell holds at most. */
  readonly capacity: number;
  /** The cell's REST API: its stage's authorizer cache is flushed when a tenant is suspended or offboarded. */
  readonly api: apigw.RestApi;
  /** The stage of `api`. */
  readonly stageName: string;
  /** The cell's pooled ledger (keys listed on offboarding, items purged through a tenant session). */
  readonly ledgerTable: dynamodb.ITable;
  /** The ledger's key (DynamoDB decrypts the listed keys with it). */
  readonly ledgerKey: kms.IKey;
  /** The cell's tenant-access role (its trust names the control plane role; the session is tagged per tenant). */
  readonly tenantAccessRole: iam.IRole;
  /**
   * Whether the cell has a reviewers topic (named {@link reviewersTopicName}): pooled tenants' reviewer e-mails are
   * subscribed to it, filtered by tenant.
   */
  readonly hasReviewersTopic: boolean;
}

/** Props of {@link ControlPlane}. */
export interface ControlPlaneProps {
  readonly registry: TenantRegistry;
  /** The pool cells, in placement order. */
  readonly cells: readonly PoolCellTarget[];
  /** Shared customer-managed policies for the function's role (X-Ray). */
  readonly sharedPolicies: readonly iam.IManagedPolicy[];
  /**
   * Regional WAF web ACL to associate with the stage.
   * @default - no WAF association
   */
  readonly webAclArn?: string;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The platform's reviewer user pool: the control plane creates a pooled tenant's reviewer group there while its
   * reviews go to people, and removes it at offboarding.
   * @default - no reviewer groups for pooled tenants
   */
  readonly reviewerDirectory?: ReviewerDirectory;
}

/**
 * The control plane API's stage throttle: the platform team's tools onboard and change tenants one call at a
 * time (onboarding takes about 10 ms of work); this keeps a runaway script from spending the account's API Gateway
 * throttle, which every tenant API shares.
 */
export const CONTROL_PLANE_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/** The control plane API's stage. */
export const CONTROL_PLANE_STAGE = 'live';

/**
 * The control plane: its function (lambda/control-plane: onboard, list, show, change, suspend, offboard pooled
 * tenants; register silo tenants from their files) and its REST API, IAM-authorized (SigV4) on every method, for
 * principals of this account only.
 *
 * The function's role: the registry (read and conditional writes); per cell, flushing the stage's authorizer
 * cache, listing the pooled ledger's keys (a Scan that may return only `pk` and `sk`, never data), and assuming the
 * cell's tenant-access role with a tenant session tag (purges go through the tenant's own session). The role has a
 * fixed name ({@link controlPlaneRoleName}) because the cells' access roles name it in their trust.
 */
export class ControlPlane extends Construct {
  readonly fn: TenantFunction;
  readonly api: apigw.RestApi;
  readonly accessLogGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: ControlPlaneProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.cells.length === 0) throw new Error(`ControlPlane ${this.node.path}: cells: at least one pool cell`);
    const cells: PoolCellEnv[] = props.cells.map((c) => ({
      id: c.id,
      capacity: c.capacity,
      restApiId: c.api.restApiId,
      stage: c.stageName,
      ledgerTable: c.ledgerTable.tableName,
      tenantAccessRoleArn: c.tenantAccessRole.roleArn,
      ...(c.hasReviewersTopic ? { reviewersTopicArn: this.reviewersTopicArn(c.id) } : {}),
    }));
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    this.fn = new TenantFunction(this, 'Function', {
      tenantId: 'control-plane',
      handler: handlerOf<typeof controlPlaneCode>('control-plane'),
      purpose: 'control plane (tenant registry API, silo registrations)',
      key: props.registry.key,
      sharedPolicies: props.sharedPolicies,
      environment: {
        [REGISTRY_TABLE_ENV]: props.registry.table.tableName,
        [CONTROL_PLANE_ENV.cells]: stack.toJsonString(cells),
        ...(props.reviewerDirectory
          ? { [CONTROL_PLANE_ENV.reviewerUserPoolId]: props.reviewerDirectory.userPool.userPoolId }
          : {}),
      },
      calls: 'only AWS public service endpoints (DynamoDB, KMS, STS, API Gateway, SNS, Cognito) with SigV4',
      timeout: Duration.seconds(29),
      trafficBoundBy: `The control plane API's stage throttle (${CONTROL_PLANE_THROTTLE.rateLimit} requests per second)`,
      logRetention: retention,
      roleName: controlPlaneRoleName(stack.region),
    });
    props.registry.grantReadWrite(this.fn);
    props.registry.grantDeadLetterPublish(this.fn);
    for (const c of props.cells) this.grantCell(c);
    props.reviewerDirectory?.grantManageGroups(this.fn);

    const accessLogGroup = apiAccessLogGroup(this, 'switchboard-control-plane', props.registry.key, retention);
    const policy = new iam.PolicyDocument({
      statements: [
        // Same account: IAM authorization and this policy; callers of other accounts are refused outright.
        new iam.PolicyStatement({
          sid: 'ThisAccountOnly',
          principals: [new iam.AccountRootPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
        }),
        new iam.PolicyStatement({
          sid: 'NoOtherAccount',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*'],
          conditions: { StringNotEquals: { 'aws:PrincipalAccount': stack.account } },
        }),
      ],
    });
    const api = new apigw.RestApi(this, 'Api', {
      policy,
      restApiName: 'switchboard-control-plane',
      description: 'Switchboard control plane: onboard, list, change, suspend and offboard tenants (IAM, SigV4)',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      deployOptions: {
        stageName: CONTROL_PLANE_STAGE,
        ...observedStageOptions(accessLogGroup),
        throttlingRateLimit: CONTROL_PLANE_THROTTLE.rateLimit,
        throttlingBurstLimit: CONTROL_PLANE_THROTTLE.burstLimit,
      },
    });
    addExecutionLogGroup(this, api, CONTROL_PLANE_STAGE, props.registry.key, retention);
    addErrorEnvelopeResponses(api, [
      apigw.ResponseType.INVALID_API_KEY,
      apigw.ResponseType.QUOTA_EXCEEDED,
      apigw.ResponseType.THROTTLED,
    ]);
    // Parameters are checked here; bodies by the handler (the tenant file schema, with its field-by-field lines):
    // no method has a body model, so API Gateway's body validation has nothing to check.
    const validator = api.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integration = new apigw.LambdaIntegration(this.fn.fn, { proxy: true, allowTestInvoke: false });
    const iamAuth = { authorizationType: apigw.AuthorizationType.IAM, requestValidator: validator };
    const idParam = { ...iamAuth, requestParameters: { 'method.request.path.id': true } };
    const tenants = api.root.addResource('v1').addResource('tenants');
    const tenant = tenants.addResource('{id}');
    const methods = [
      tenants.addMethod('POST', integration, iamAuth),
      tenants.addMethod('GET', integration, {
        ...iamAuth,
        requestParameters: { 'method.request.querystring.limit': false, 'method.request.querystring.cursor': false },
      }),
      tenant.addMethod('GET', integration, idParam),
      tenant.addMethod('PATCH', integration, idParam),
      tenant.addMethod('DELETE', integration, idParam),
      tenant.addResource('move').addMethod('POST', integration, idParam),
    ];
    if (props.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: api.deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    }
    for (const m of methods) {
      acknowledge(
        m,
        'AwsSolutions-COG4',
        'The control plane API is for the platform team and its tools, which have AWS identities: every method uses IAM authorization (SigV4) and the resource policy refuses other accounts; there are no end users for a Cognito user pool.',
      );
    }
    acknowledgeInRegulatedPacks(
      api.deploymentStage,
      'APIGWSSLEnabled',
      'The only integration is a Lambda proxy integration: a client certificate only authenticates API Gateway to HTTP backends and is never presented to Lambda, so it would protect nothing, while costing one of the 60 client certificates a region allows. Callers reach the API over TLS only.',
    );
    acknowledgeInRegulatedPacks(
      api.deploymentStage,
      'APIGWCacheEnabledAndEncrypted',
      'Responses must never be cached: the control plane answers with live registry state (tenant status, a new API key shown once), and every write must reach the function. No cache cluster exists, so there is no cache data to encrypt.',
    );
    this.api = api;
    this.accessLogGroup = accessLogGroup;
  }

  private grantCell(c: PoolCellTarget): void {
    const stack = Stack.of(this);
    this.fn.addStatements(
      new iam.PolicyStatement({
        // FlushStageAuthorizersCache: a suspended or offboarded key is refused at once, not after the cache TTL.
        sid: `FlushAuthorizerCache${pascal(c.id)}`,
        actions: [FLUSH_AUTHORIZERS_CACHE_ACTION],
        resources: [flushAuthorizersCacheArn(stack.partition, stack.region, c.api.restApiId, c.stageName)],
      }),
      new iam.PolicyStatement({
        // Offboarding counts and lists a tenant's items by key only: the Scan may return pk and sk, nothing else.
        sid: `ListLedgerKeysOnly${pascal(c.id)}`,
        actions: [...LEDGER_KEYS_ONLY_SCAN.actions],
        resources: [c.ledgerTable.tableArn],
        conditions: LEDGER_KEYS_ONLY_SCAN.conditions,
      }),
      new iam.PolicyStatement({
        sid: `LedgerKeyThroughDynamoDb${pascal(c.id)}`,
        actions: ['kms:Decrypt'],
        resources: [c.ledgerKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
      }),
      new iam.PolicyStatement({
        // Purges delete through a session tagged with the tenant (the access role's ABAC), never with this role.
        sid: `AssumeTenantAccess${pascal(c.id)}`,
        actions: [...TENANT_ACCESS_ASSUME_ACTIONS],
        resources: [c.tenantAccessRole.roleArn],
      }),
    );
    if (c.hasReviewersTopic) {
      const topicArn = this.reviewersTopicArn(c.id);
      this.fn.addStatements(
        new iam.PolicyStatement({
          // Pooled tenants' reviewer e-mails, each filtered to its tenant (core/reviewer-subscriptions.ts).
          sid: `ReviewerSubscriptions${pascal(c.id)}`,
          actions: ['sns:Subscribe'],
          resources: [topicArn],
          conditions: { StringEquals: { 'sns:Protocol': 'email' } },
        }),
        new iam.PolicyStatement({
          // SNS authorizes Unsubscribe on the subscription's ARN: the topic's ARN and an id.
          sid: `RemoveReviewerSubscriptions${pascal(c.id)}`,
          actions: ['sns:Unsubscribe'],
          resources: [`${topicArn}:*`],
        }),
      );
      acknowledge(
        this.fn.rolePolicy,
        `AwsSolutions-IAM5[Resource::${nagArnPrefix(this, 'sns')}:${reviewersTopicName(c.id)}:*]`,
        "The wildcard is the subscription id under this one pool cell's reviewers topic: the control plane removes the reviewer e-mail subscriptions it made there (their ARNs are the topic's plus an id SNS assigns).",
      );
    }
  }

  /** A cell's reviewers topic ARN, from its fixed name (no reference to the cell stack). */
  private reviewersTopicArn(cellId: string): string {
    return Stack.of(this).formatArn({ service: 'sns', resource: reviewersTopicName(cellId) });
  }
}

/** `pool-1` → `Pool1` (statement ids and construct ids). */
export function pascal(id: string): string {
  return id
    .split(/[^A-Za-z0-9]/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}
