import { type CfnElement, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { inferenceRequestJsonSchema } from '../../../lambda/shared/api-schema';
import { ERROR_CODES, type ErrorCode } from '../../../lambda/shared/errors';
import { TENANT_SESSION_TAG } from '../../../lambda/shared/pool-keys';
import type { QuotaPeriod } from '../../../lambda/shared/tenant-vocabulary';
import { acknowledge, acknowledgeInRegulatedPacks, nagArnPrefix } from '../../compliance/acknowledge';
import { IAM_PRINCIPAL_ARN_PATTERN } from '../../config/tenant-schema';
import { ManagedPolicyRole } from '../iam/managed-policy-role';
import { TrustStatementsPrincipal } from '../iam/trust';
import { API_GATEWAY_LOG_GROUP_PREFIX } from '../platform/api-gateway-account';
import { POOL_AUTH_GATEWAY_RESPONSES, type PoolAuthorizer } from '../pool/pool-authorizer';
import type { ReviewerDirectory } from '../review/reviewer-directory';
import { deploymentUniqueSuffix } from '../unique-names';
import { toCdkJsonSchema } from './request-model';
import { ReviewerConsoleRoutes } from './reviewer-console-routes';

/** A rate limit (requests per second) and burst. */
export interface ApiThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/**
 * How callers of the tenant routes authenticate, and where their limits are enforced.
 * - `apiKey` (a silo tenant): an API Gateway API key, bound to a usage plan with the tenant's throttle and quota;
 *   the stage has the same throttle.
 * - `poolAuthorizer` (a pool cell): the cell's Lambda authorizer maps a Switchboard key to its tenant. No API keys
 *   and no usage plans (an account holds at most 10,000 API keys per region, not adjustable): each tenant's throttle
 *   and quota are enforced by admission in DynamoDB by the pooled function. `throttle` caps the whole stage.
 */
export type TenantApiAuthorization =
  | {
      readonly type: 'apiKey';
      /** Usage-plan and stage throttle. */
      readonly throttle: ApiThrottle;
      /** Usage-plan quota. */
      readonly quota: { readonly limit: number; readonly period: QuotaPeriod };
    }
  | {
      readonly type: 'poolAuthorizer';
      readonly authorizer: PoolAuthorizer;
      /** Stage throttle, for every tenant of the cell together. @default - the account's regional throttle */
      readonly throttle?: ApiThrottle;
    };

/** Props of {@link TenantApi}. */
export interface TenantApiProps {
  /** Whose API (a tenant id, or a pool cell id): names of the API and its log groups. */
  readonly tenantId: string;
  /** The function behind every tenant route. */
  readonly handler: lambda.IFunction;
  /** Key encrypting the access and execution log groups. */
  readonly key: kms.IKey;
  /** How callers authenticate: an API key and usage plan (silo), or the pool authorizer (pooled). */
  readonly authorization: TenantApiAuthorization;
  /**
   * Regional WAF web ACL to associate with the stage.
   * @default - no WAF association
   */
  readonly webAclArn?: string;
  /**
   * Integration timeout; keep it at or above the function timeout.
   * @default Duration.seconds(29)
   */
  readonly integrationTimeout?: Duration;
  /**
   * Log retention.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The review API function: adds the `/v1/reviews` routes with IAM authorization (SigV4) and a reviewer
   * role that may call exactly those routes — a credential separate from the tenant's inference API key.
   * @default - no review routes
   */
  readonly reviewHandler?: lambda.Function;
  /**
   * The platform's reviewer user pool: adds the review console (`/console/`) and its Cognito-authorized reviewer
   * routes (`/v1/reviewer/...`) beside the SigV4 ones (ReviewerConsoleRoutes). Only with `reviewHandler`.
   * @default - no console, SigV4 review routes only
   */
  readonly reviewerDirectory?: ReviewerDirectory;
  /**
   * Who may assume the reviewer role: ARNs of IAM roles or users of this account (path allowed, no wildcards).
   * Whoever assumes it must set a source identity (an IAM user: its own user name) and use it as the role session
   * name, so the identity the review API records (`userArn`) names the source identity.
   * @default - principals of this account tagged `switchboard:reviewer` = tenantId ({@link REVIEWER_TAG_KEY})
   */
  readonly reviewerPrincipals?: readonly string[];
}

/**
 * The principal tag that lets a role or user of the account assume a tenant's reviewer role when the tenant file
 * names no reviewer principals. Not `switchboard:tenant`: the tenant stack puts that tag on all its own roles.
 */
export const REVIEWER_TAG_KEY = 'switchboard:reviewer';

// Where the reviewer trust and the resource policy come from:
// - sts:SourceIdentity / sts:RoleSessionName keys ("any single-valued condition key as a variable"):
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_rolesessionname
// - source identity: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html
// - `execute-api:/stage/METHOD/path`, the API's own ARN without referring to the API:
//   https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-examples.html
// - same account, allowed when IAM or the resource policy allows, unless either denies:
//   https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html

/** An IAM policy variable (`${key}`), resolved by IAM from the request, not by CloudFormation or CDK. */
const policyVariable = (key: string) => `\${${key}}`;

/**
 * The reviewer role's trust: sts:AssumeRole with sts:SetSourceIdentity, only with a source identity present and
 * used as the session name (`${sts:SourceIdentity}` as a policy variable: the IAM user guide allows any
 * single-valued key as a variable), for the named principals (IAM users: the source identity is their own user
 * name) or, without names, for principals of the account tagged {@link REVIEWER_TAG_KEY} = tenantId.
 */
function reviewerTrustStatements(tenantId: string, principals: readonly string[]): iam.PolicyStatement[] {
  const account = new iam.AccountRootPrincipal();
  const actions = ['sts:AssumeRole', 'sts:SetSourceIdentity'];
  const sessionIsSourceIdentity = { 'sts:RoleSessionName': policyVariable('sts:SourceIdentity') };
  const present = { Null: { 'sts:SourceIdentity': 'false' } };
  const named = (arns: string[], extra: Record<string, string> = {}) =>
    new iam.PolicyStatement({
      principals: [account],
      actions,
      conditions: {
        ArnEquals: { 'aws:PrincipalArn': arns },
        StringEquals: { ...sessionIsSourceIdentity, ...extra },
        ...present,
      },
    });
  if (principals.length === 0) {
    return [
      new iam.PolicyStatement({
        principals: [account],
        actions,
        conditions: {
          StringEquals: { [`aws:PrincipalTag/${REVIEWER_TAG_KEY}`]: tenantId, ...sessionIsSourceIdentity },
          ...present,
        },
      }),
    ];
  }
  const roles = principals.filter((a) => IAM_PRINCIPAL_ARN_PATTERN.exec(a)?.[2] === 'role');
  const users = principals.filter((a) => IAM_PRINCIPAL_ARN_PATTERN.exec(a)?.[2] === 'user');
  return [
    ...(roles.length ? [named(roles)] : []),
    ...(users.length ? [named(users, { 'sts:SourceIdentity': policyVariable('aws:username') })] : []),
  ];
}

/**
 * The trust of a pool cell's reviewer role: principals of the account tagged {@link REVIEWER_TAG_KEY} = a tenant id
 * may assume it with that tenant as the session tag `switchboard:tenant` (and no other tag), with a source identity
 * used as the session name. The session tag is what the role's policy matches against the tenant in the route.
 */
function pooledReviewerTrustStatements(): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      principals: [new iam.AccountRootPrincipal()],
      actions: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession'],
      conditions: {
        StringEquals: {
          [`aws:RequestTag/${TENANT_SESSION_TAG}`]: policyVariable(`aws:PrincipalTag/${REVIEWER_TAG_KEY}`),
          'sts:RoleSessionName': policyVariable('sts:SourceIdentity'),
        },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_SESSION_TAG] },
        Null: {
          'sts:SourceIdentity': 'false',
          [`aws:RequestTag/${TENANT_SESSION_TAG}`]: 'false',
          [`aws:PrincipalTag/${REVIEWER_TAG_KEY}`]: 'false',
        },
      },
    }),
  ];
}

/** The deployed stage name: URLs are `https://<api>.execute-api.<region>.amazonaws.com/live/v1/...`. */
export const STAGE_NAME = 'live';

/** API Gateway's own errors, answered in the Switchboard error envelope with a stable code. */
const GATEWAY_RESPONSES: ReadonlyArray<{
  type: apigw.ResponseType;
  code: ErrorCode;
  message: string;
  retryAfter?: string;
}> = [
  {
    type: apigw.ResponseType.BAD_REQUEST_BODY,
    code: 'invalid_request',
    // No route validates its body at the gateway (the handlers do, with field-by-field messages).
    message: 'Invalid request body',
  },
  {
    type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
    code: 'invalid_request',
    message: 'Missing or invalid request parameters',
  },
  {
    type: apigw.ResponseType.INVALID_API_KEY,
    code: 'forbidden',
    message: 'Missing or invalid API key: send it in the x-api-key header',
  },
  {
    type: apigw.ResponseType.API_CONFIGURATION_ERROR,
    code: 'internal_error',
    message: 'API configuration error; contact the platform team',
  },
  { type: apigw.ResponseType.ACCESS_DENIED, code: 'forbidden', message: 'Access denied' },
  {
    type: apigw.ResponseType.WAF_FILTERED,
    code: 'forbidden',
    message: 'Request blocked by the web application firewall',
  },
  {
    type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    code: 'not_found',
    message: 'No such route; routes are under /v1',
  },
  {
    type: apigw.ResponseType.THROTTLED,
    code: 'throttled',
    message: 'Rate limit of this API key exceeded; retry after the Retry-After delay',
    retryAfter: '1',
  },
  {
    type: apigw.ResponseType.QUOTA_EXCEEDED,
    code: 'quota_exceeded',
    message: 'Request quota of this API key is used up for the period',
    retryAfter: '3600',
  },
  { type: apigw.ResponseType.REQUEST_TOO_LARGE, code: 'payload_too_large', message: 'Request is too large' },
  {
    type: apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE,
    code: 'unsupported_media_type',
    message: 'Content-Type must be application/json',
  },
  {
    type: apigw.ResponseType.INTEGRATION_TIMEOUT,
    code: 'gateway_timeout',
    message: 'The request took too long; poll GET /v1/requests/{requestId} or retry with the same idempotencyKey',
    retryAfter: '5',
  },
  { type: apigw.ResponseType.DEFAULT_4XX, code: 'invalid_request', message: 'The request could not be processed' },
  { type: apigw.ResponseType.DEFAULT_5XX, code: 'internal_error', message: 'Internal error; retry later' },
];

/** Gateway responses that only an API key and usage plan produce (not answered on a pool cell's API). */
const API_KEY_ONLY_RESPONSES: readonly apigw.ResponseType[] = [
  apigw.ResponseType.INVALID_API_KEY,
  apigw.ResponseType.QUOTA_EXCEEDED,
];

/**
 * A tenant's (or a pool cell's) REST API: regional, every tenant route authenticated (a silo tenant's API key with
 * a usage plan of the tenant's throttle and quota, or a pool cell's Lambda authorizer), request validation against the model generated from the handler's zod schema,
 * access and execution logs in KMS-encrypted log groups, X-Ray tracing, and errors from API Gateway itself
 * in the same envelope as the handler's.
 */
export class TenantApi extends Construct {
  readonly api: apigw.RestApi;
  /** The tenant's API key (`apiKey` authorization only). */
  readonly apiKey?: apigw.IApiKey;
  /** The tenant's usage plan (`apiKey` authorization only). */
  readonly usagePlan?: apigw.UsagePlan;
  readonly accessLogGroup: logs.ILogGroup;
  /** The role reviewers assume to call the review routes (when there are review routes). */
  readonly reviewerRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: TenantApiProps) {
    super(scope, id);
    const problems: string[] = [];
    const auth = props.authorization;
    const throttle = auth.throttle;
    if (throttle && throttle.rateLimit <= 0) {
      problems.push(`authorization.throttle.rateLimit: ${throttle.rateLimit} must be > 0`);
    }
    if (throttle && throttle.burstLimit < 1) {
      problems.push(`authorization.throttle.burstLimit: ${throttle.burstLimit} must be >= 1`);
    }
    if (auth.type === 'apiKey' && auth.quota.limit < 1) {
      problems.push(`authorization.quota.limit: ${auth.quota.limit} must be >= 1`);
    }
    const account = Stack.of(this).account;
    for (const arn of props.reviewerPrincipals ?? []) {
      if (Token.isUnresolved(arn)) continue;
      const m = IAM_PRINCIPAL_ARN_PATTERN.exec(arn);
      if (!m) problems.push(`reviewerPrincipals: ${arn} is not the ARN of an IAM role or user`);
      else if (!Token.isUnresolved(account) && m[1] !== account) {
        problems.push(`reviewerPrincipals: ${arn} is not in this stack's account ${account}`);
      }
    }
    if (problems.length) throw new Error(`TenantApi ${this.node.path}: ${problems.join('; ')}`);

    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const accessLogGroup = apiAccessLogGroup(this, `switchboard-${props.tenantId}`, props.key, retention);

    // The resource policy: filled below, once the routes and the reviewer role exist.
    const resourcePolicy = new iam.PolicyDocument();
    const api = new apigw.RestApi(this, 'Api', {
      policy: resourcePolicy,
      restApiName: `switchboard-${props.tenantId}`,
      description:
        auth.type === 'apiKey'
          ? `Switchboard tenant API for ${props.tenantId}`
          : `Switchboard tenant API of pool cell ${props.tenantId} (pooled tenants)`,
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      ...(auth.type === 'apiKey' ? { apiKeySourceType: apigw.ApiKeySourceType.HEADER } : {}),
      disableExecuteApiEndpoint: false,
      deployOptions: {
        stageName: STAGE_NAME,
        ...observedStageOptions(accessLogGroup),
        throttlingRateLimit: throttle?.rateLimit,
        throttlingBurstLimit: throttle?.burstLimit,
      },
    });
    addExecutionLogGroup(this, api, STAGE_NAME, props.key, retention);

    // A pool cell's authorizer answers 401/403/500 itself (PoolAuthorizer.addGatewayResponses): one response per type.
    const skipped =
      auth.type === 'apiKey' ? [] : [...API_KEY_ONLY_RESPONSES, ...POOL_AUTH_GATEWAY_RESPONSES.map((r) => r.type)];
    if (auth.type === 'poolAuthorizer') auth.authorizer.addGatewayResponses(api);
    addErrorEnvelopeResponses(api, skipped);

    const validator = api.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // The inference body is validated by the handler (the same zod schema the model is generated from), so
    // callers on AWS get the documented field-by-field message; API Gateway's own body validation would answer
    // first with one fixed text. The model stays attached as the route's documentation.
    const parametersOnly = api.addRequestValidator('ParametersValidator', {
      requestValidatorName: 'parameters-only',
      validateRequestBody: false,
      validateRequestParameters: true,
    });
    const model = api.addModel('InferenceRequest', {
      modelName: 'InferenceRequest',
      contentType: 'application/json',
      description: 'POST /v1/inference body (generated from the handler zod schema)',
      schema: toCdkJsonSchema(inferenceRequestJsonSchema()),
    });
    // No `test-invoke-stage` permission: a console or TestInvokeMethod call reaches the function without the API
    // key, IAM authorization, the resource policy or WAF. Only the deployed stage may invoke the handlers.
    const integration = new apigw.LambdaIntegration(props.handler, {
      proxy: true,
      timeout: props.integrationTimeout ?? Duration.seconds(29),
      allowTestInvoke: false,
    });
    const callerAuth: apigw.MethodOptions =
      auth.type === 'apiKey'
        ? { apiKeyRequired: true }
        : { authorizer: auth.authorizer.authorizer, authorizationType: apigw.AuthorizationType.CUSTOM };
    const v1 = api.root.addResource('v1');
    const methods = [
      v1.addResource('inference').addMethod('POST', integration, {
        ...callerAuth,
        requestValidator: parametersOnly,
        requestModels: { 'application/json': model },
      }),
      v1
        .addResource('requests')
        .addResource('{requestId}')
        .addMethod('GET', integration, {
          ...callerAuth,
          requestValidator: validator,
          requestParameters: { 'method.request.path.requestId': true },
        }),
      v1.addResource('usage').addMethod('GET', integration, { ...callerAuth, requestValidator: validator }),
    ];

    /** A method in the resource policy's own-API form (`execute-api:/live/GET/v1/requests/*`): no reference cycle. */
    const route = (m: apigw.Method) =>
      `execute-api:/${STAGE_NAME}/${m.httpMethod}${m.resource.path.replace(/\{[^}]+\}/g, '*')}`;
    // Tenant routes: for every caller (the API key and usage plan, or the pool authorizer, and WAF decide). With
    // a resource policy, a route that is not IAM-authorized is refused unless the policy allows it.
    resourcePolicy.addStatements(
      new iam.PolicyStatement({
        sid: auth.type === 'apiKey' ? 'ApiKeyRoutesForEveryCaller' : 'AuthorizerRoutesForEveryCaller',
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: methods.map(route),
      }),
    );

    if (props.reviewHandler) {
      const reviewIntegration = new apigw.LambdaIntegration(props.reviewHandler, {
        proxy: true,
        allowTestInvoke: false,
      });
      const iamAuth = { authorizationType: apigw.AuthorizationType.IAM, requestValidator: validator };
      // A pool cell's review routes are under the tenant they are for (`/v1/tenants/{tenantId}/reviews`): the
      // reviewer role may invoke them only for the tenant of its session tag (below).
      const pooled = auth.type === 'poolAuthorizer';
      const reviews = (pooled ? v1.addResource('tenants').addResource('{tenantId}') : v1).addResource('reviews');
      const review = reviews.addResource('{reviewId}');
      const pathParam = {
        'method.request.path.reviewId': true,
        ...(pooled ? { 'method.request.path.tenantId': true } : {}),
      };
      const tenantParam = pooled ? { requestParameters: { 'method.request.path.tenantId': true } } : {};
      const reviewMethods = [
        reviews.addMethod('GET', reviewIntegration, { ...iamAuth, ...tenantParam }),
        reviews.addResource('export').addMethod('GET', reviewIntegration, { ...iamAuth, ...tenantParam }),
        review.addMethod('GET', reviewIntegration, { ...iamAuth, requestParameters: pathParam }),
        review
          .addResource('decision')
          .addMethod('POST', reviewIntegration, { ...iamAuth, requestParameters: pathParam }),
      ];
      const reviewer = new ManagedPolicyRole(this, 'ReviewerRole', {
        assumedBy: new TrustStatementsPrincipal(
          new iam.AccountRootPrincipal(),
          pooled
            ? pooledReviewerTrustStatements()
            : reviewerTrustStatements(props.tenantId, props.reviewerPrincipals ?? []),
        ),
        description: pooled
          ? `Switchboard ${props.tenantId}: reviewers of pooled tenants (the review routes of their session's tenant only)`
          : `Switchboard ${props.tenantId}: reviewers (the review API only)`,
      });
      // A pooled reviewer's session names its tenant (tag switchboard:tenant): IAM resolves the policy variable
      // in the ARN, so the session may invoke that tenant's review routes and no other tenant's.
      const tenantOfSession = policyVariable(`aws:PrincipalTag/${TENANT_SESSION_TAG}`);
      reviewer.addStatements(
        new iam.PolicyStatement({
          sid: 'CallReviewApi',
          actions: ['execute-api:Invoke'],
          resources: reviewMethods.map((m) =>
            pooled
              ? api.arnForExecuteApi(
                  m.httpMethod,
                  m.resource.path.replace('{tenantId}', tenantOfSession).replace('{reviewId}', '*'),
                  STAGE_NAME,
                )
              : m.methodArn,
          ),
        }),
      );
      // Path parameters make two of the method ARNs end in wildcards ({reviewId} → *): exactly those routes.
      const stack = Stack.of(this);
      const apiId = stack.getLogicalId(api.node.defaultChild as CfnElement);
      const stageId = stack.getLogicalId(api.deploymentStage.node.defaultChild as CfnElement);
      // cdk-nag names a policy variable `<aws:PrincipalTag/...>` in its finding ids.
      const prefix = pooled ? `v1/tenants/<aws:PrincipalTag/${TENANT_SESSION_TAG}>/reviews` : 'v1/reviews';
      const stagePart = pooled ? STAGE_NAME : `<${stageId}>`;
      for (const route of [`GET/${prefix}/*`, `POST/${prefix}/*/decision`]) {
        acknowledge(
          reviewer.policy,
          `AwsSolutions-IAM5[Resource::${nagArnPrefix(this, 'execute-api')}:<${apiId}>/${stagePart}/${route}]`,
          pooled
            ? "The wildcard is the {reviewId} path parameter of this one review route on this API and stage, under the tenant of the reviewer's own session tag; reviewers may act on any review of that tenant, and the routes themselves are enumerated."
            : 'The wildcard is the {reviewId} path parameter of this one review route on this API and stage; reviewers may act on any review of this tenant, and the routes themselves are enumerated.',
        );
      }
      for (const m of reviewMethods) {
        acknowledge(
          m,
          'AwsSolutions-COG4',
          "Review routes use IAM authorization (SigV4) with the tenant reviewer role; reviewers are the tenant operator's staff with AWS identities, not end users of a Cognito user pool.",
        );
      }
      this.reviewerRole = reviewer.role;
      const consoleRoutes = props.reviewerDirectory
        ? new ReviewerConsoleRoutes(this, 'ReviewConsole', {
            api,
            v1,
            reviewHandler: props.reviewHandler,
            integration: reviewIntegration,
            pooled,
            directory: props.reviewerDirectory,
            stageName: STAGE_NAME,
            validator,
          })
        : undefined;
      // In one account, IAM authorization lets any principal whose own policy allows execute-api:Invoke call the
      // review routes (an administrator's `*` included). The resource policy allows them to the reviewer role and
      // denies them to every other principal: an explicit deny wins over any allow.
      resourcePolicy.addStatements(
        new iam.PolicyStatement({
          sid: 'ReviewRoutesForTheReviewerRole',
          principals: [reviewer.role],
          actions: ['execute-api:Invoke'],
          // In one account the resource policy's allow is enough on its own: a pool cell's names only the routes
          // of the session's tenant, as the role's own policy does (the isolation matrix holds both to it).
          resources: reviewMethods.map((m) =>
            pooled ? route(m).replace('/tenants/*/', `/tenants/${tenantOfSession}/`) : route(m),
          ),
        }),
        ...(consoleRoutes ? [consoleRoutes.resourcePolicyStatement(route)] : []),
        new iam.PolicyStatement({
          sid: 'ReviewRoutesForNobodyElse',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: pooled
            ? ['execute-api:/*/*/v1/tenants/*/reviews', 'execute-api:/*/*/v1/tenants/*/reviews/*']
            : ['execute-api:/*/*/v1/reviews', 'execute-api:/*/*/v1/reviews/*'],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': reviewer.role.roleArn } },
        }),
      );
    }
    // API Gateway applies a changed resource policy only with a new deployment. CDK's deployment logical id
    // already hashes the RestApi's own properties, the policy included (aws-apigateway LatestDeploymentResource,
    // aws-cdk-lib 2.276), so a policy change creates a new deployment; a test holds that.

    if (auth.type === 'apiKey') {
      const apiKey = api.addApiKey('ApiKey', { description: `Switchboard ${props.tenantId} tenant key` });
      const usagePlan = api.addUsagePlan('UsagePlan', {
        name: `switchboard-${props.tenantId}`,
        description: `Switchboard ${props.tenantId}: throttle and quota from the tenant file`,
        throttle: { rateLimit: auth.throttle.rateLimit, burstLimit: auth.throttle.burstLimit },
        quota: { limit: auth.quota.limit, period: apigw.Period[auth.quota.period] },
        apiStages: [{ api, stage: api.deploymentStage }],
      });
      usagePlan.addApiKey(apiKey);
      this.apiKey = apiKey;
      this.usagePlan = usagePlan;
    }

    if (props.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: api.deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    }

    for (const m of methods) {
      if (auth.type === 'apiKey') {
        acknowledge(
          m,
          'AwsSolutions-APIG4',
          'Machine-to-machine tenant API: callers authenticate with the per-tenant API key bound to a usage plan (throttle and quota), behind WAF; there are no end users for a Cognito or IAM authorizer.',
        );
        acknowledge(
          m,
          'AwsSolutions-COG4',
          'No Cognito user pool: the tenant API is machine-to-machine, authenticated by the per-tenant API key and usage plan, behind WAF.',
        );
      } else {
        acknowledge(
          m,
          'AwsSolutions-COG4',
          "No Cognito user pool: the pool cell's API is machine-to-machine; its Lambda authorizer maps each caller's Switchboard API key (stored hashed in the tenant registry) to its tenant, behind WAF.",
        );
      }
    }
    acknowledgeInRegulatedPacks(
      api.deploymentStage,
      'APIGWSSLEnabled',
      'Every integration is a Lambda proxy integration: a client certificate only authenticates API Gateway to HTTP backends and is never presented to Lambda, so it would protect nothing, while costing one of the 60 client certificates a region allows per account (one per tenant would cap the fleet). Callers reach the API over TLS only.',
    );
    acknowledgeInRegulatedPacks(
      api.deploymentStage,
      'APIGWCacheEnabledAndEncrypted',
      'Responses must never be cached: POST /v1/inference is not idempotent and the GET routes return live per-tenant state (request status, month-to-date usage). No cache cluster exists, so there is no cache data to encrypt.',
    );

    this.api = api;
    this.accessLogGroup = accessLogGroup;
  }

  /** The base URL callers use (`…/live`). */
  get url(): string {
    return this.api.url;
  }
}

/**
 * The access log group of a Switchboard REST API (`name`: `switchboard-<tenant>`, `switchboard-control-plane`),
 * KMS-encrypted, retained. API Gateway's role writes only to API-Gateway-* groups; the suffix is new with every
 * stack, so a redeploy after a delete does not collide with the retained group.
 */
export function apiAccessLogGroup(
  scope: Construct,
  name: string,
  key: kms.IKey,
  retention: logs.RetentionDays,
): logs.LogGroup {
  return new logs.LogGroup(scope, 'AccessLogs', {
    logGroupName: `${API_GATEWAY_LOG_GROUP_PREFIX}Access-Logs_${name}-${deploymentUniqueSuffix()}`,
    encryptionKey: key,
    retention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** Stage options every Switchboard API has: JSON access logs, error execution logs, no data trace, X-Ray, metrics. */
export function observedStageOptions(accessLogGroup: logs.ILogGroup): apigw.StageOptions {
  return {
    accessLogDestination: new apigw.LogGroupLogDestination(accessLogGroup),
    accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
    loggingLevel: apigw.MethodLoggingLevel.ERROR,
    dataTraceEnabled: false,
    tracingEnabled: true,
    metricsEnabled: true,
  };
}

/**
 * The execution log group of `api`'s stage, created before the stage: API Gateway would otherwise create it itself
 * (unencrypted, kept forever).
 */
export function addExecutionLogGroup(
  scope: Construct,
  api: apigw.RestApi,
  stageName: string,
  key: kms.IKey,
  retention: logs.RetentionDays,
): logs.LogGroup {
  const group = new logs.LogGroup(scope, 'ExecutionLogs', {
    logGroupName: `${API_GATEWAY_LOG_GROUP_PREFIX}Execution-Logs_${api.restApiId}/${stageName}`,
    encryptionKey: key,
    retention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  api.deploymentStage.node.addDependency(group);
  return group;
}

/** API Gateway's own errors on `api` in the Switchboard error envelope, except the response types in `skip`. */
export function addErrorEnvelopeResponses(api: apigw.RestApi, skip: readonly apigw.ResponseType[] = []): void {
  for (const r of GATEWAY_RESPONSES.filter((g) => !skip.includes(g.type))) {
    api.addGatewayResponse(`Gw${r.type.responseType}`, {
      type: r.type,
      statusCode: r.type === apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN ? String(ERROR_CODES[r.code]) : undefined,
      responseHeaders: {
        'Content-Type': "'application/json'",
        ...(r.retryAfter ? { 'Retry-After': `'${r.retryAfter}'` } : {}),
      },
      templates: {
        'application/json': `{"error":{"code":"${r.code}","message":"${r.message}","requestId":"$context.requestId"}}`,
      },
    });
  }
}
