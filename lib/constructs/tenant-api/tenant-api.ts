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
import type { QuotaPeriod } from '../../../lambda/shared/tenant-vocabulary';
import { acknowledge, acknowledgeInRegulatedPacks, nagArnPrefix } from '../../compliance/acknowledge';
import { IAM_PRINCIPAL_ARN_PATTERN } from '../../config/tenant-schema';
import { ManagedPolicyRole } from '../iam/managed-policy-role';
import { TrustStatementsPrincipal } from '../iam/trust';
import { API_GATEWAY_LOG_GROUP_PREFIX } from '../platform/api-gateway-account';
import { deploymentUniqueSuffix } from '../unique-names';
import { toCdkJsonSchema } from './request-model';

/** Props of {@link TenantApi}. */
export interface TenantApiProps {
  readonly tenantId: string;
  /** The function behind every tenant route. */
  readonly handler: lambda.IFunction;
  /** Key encrypting the access and execution log groups. */
  readonly key: kms.IKey;
  /** Usage-plan and stage throttle. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Usage-plan quota. */
  readonly quota: { readonly limit: number; readonly period: QuotaPeriod };
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
  readonly reviewHandler?: lambda.IFunction;
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

/**
 * A tenant's REST API: regional, API key required on every route, a usage plan with the tenant's
 * throttle and quota, request validation against the model generated from the handler's zod schema,
 * access and execution logs in KMS-encrypted log groups, X-Ray tracing, and errors from API Gateway itself
 * in the same envelope as the handler's.
 */
export class TenantApi extends Construct {
  readonly api: apigw.RestApi;
  readonly apiKey: apigw.IApiKey;
  readonly usagePlan: apigw.UsagePlan;
  readonly accessLogGroup: logs.ILogGroup;
  /** The role reviewers assume to call the review routes (when there are review routes). */
  readonly reviewerRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: TenantApiProps) {
    super(scope, id);
    const problems: string[] = [];
    if (props.throttle.rateLimit <= 0) problems.push(`throttle.rateLimit: ${props.throttle.rateLimit} must be > 0`);
    if (props.throttle.burstLimit < 1) problems.push(`throttle.burstLimit: ${props.throttle.burstLimit} must be >= 1`);
    if (props.quota.limit < 1) problems.push(`quota.limit: ${props.quota.limit} must be >= 1`);
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
    const accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      // API Gateway's role writes only to API-Gateway-* groups; the suffix is new with every stack, so a
      // redeploy after a delete does not collide with the retained group.
      logGroupName: `${API_GATEWAY_LOG_GROUP_PREFIX}Access-Logs_switchboard-${props.tenantId}-${deploymentUniqueSuffix()}`,
      encryptionKey: props.key,
      retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The resource policy: filled below, once the routes and the reviewer role exist.
    const resourcePolicy = new iam.PolicyDocument();
    const api = new apigw.RestApi(this, 'Api', {
      policy: resourcePolicy,
      restApiName: `switchboard-${props.tenantId}`,
      description: `Switchboard tenant API for ${props.tenantId}`,
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: false,
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      disableExecuteApiEndpoint: false,
      deployOptions: {
        stageName: STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
      },
    });
    // API Gateway would create the execution log group itself (unencrypted, kept forever): create it first.
    const executionLogGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `${API_GATEWAY_LOG_GROUP_PREFIX}Execution-Logs_${api.restApiId}/${STAGE_NAME}`,
      encryptionKey: props.key,
      retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    api.deploymentStage.node.addDependency(executionLogGroup);

    for (const r of GATEWAY_RESPONSES) {
      api.addGatewayResponse(`Gw${r.type.responseType}`, {
        type: r.type,
        statusCode:
          r.type === apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN ? String(ERROR_CODES[r.code]) : undefined,
        responseHeaders: {
          'Content-Type': "'application/json'",
          ...(r.retryAfter ? { 'Retry-After': `'${r.retryAfter}'` } : {}),
        },
        templates: {
          'application/json': `{"error":{"code":"${r.code}","message":"${r.message}","requestId":"$context.requestId"}}`,
        },
      });
    }

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
    const v1 = api.root.addResource('v1');
    const methods = [
      v1.addResource('inference').addMethod('POST', integration, {
        apiKeyRequired: true,
        requestValidator: parametersOnly,
        requestModels: { 'application/json': model },
      }),
      v1
        .addResource('requests')
        .addResource('{requestId}')
        .addMethod('GET', integration, {
          apiKeyRequired: true,
          requestValidator: validator,
          requestParameters: { 'method.request.path.requestId': true },
        }),
      v1.addResource('usage').addMethod('GET', integration, { apiKeyRequired: true, requestValidator: validator }),
    ];

    /** A method in the resource policy's own-API form (`execute-api:/live/GET/v1/requests/*`): no reference cycle. */
    const route = (m: apigw.Method) =>
      `execute-api:/${STAGE_NAME}/${m.httpMethod}${m.resource.path.replace(/\{[^}]+\}/g, '*')}`;
    // API-key routes: for every caller (API key, usage plan and WAF decide). With a resource policy, an
    // unauthenticated route is refused unless the policy allows it.
    resourcePolicy.addStatements(
      new iam.PolicyStatement({
        sid: 'ApiKeyRoutesForEveryCaller',
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
      const reviews = v1.addResource('reviews');
      const review = reviews.addResource('{reviewId}');
      const pathParam = { 'method.request.path.reviewId': true };
      const reviewMethods = [
        reviews.addMethod('GET', reviewIntegration, iamAuth),
        reviews.addResource('export').addMethod('GET', reviewIntegration, iamAuth),
        review.addMethod('GET', reviewIntegration, { ...iamAuth, requestParameters: pathParam }),
        review
          .addResource('decision')
          .addMethod('POST', reviewIntegration, { ...iamAuth, requestParameters: pathParam }),
      ];
      const reviewer = new ManagedPolicyRole(this, 'ReviewerRole', {
        assumedBy: new TrustStatementsPrincipal(
          new iam.AccountRootPrincipal(),
          reviewerTrustStatements(props.tenantId, props.reviewerPrincipals ?? []),
        ),
        description: `Switchboard ${props.tenantId}: reviewers (the review API only)`,
      });
      reviewer.addStatements(
        new iam.PolicyStatement({
          sid: 'CallReviewApi',
          actions: ['execute-api:Invoke'],
          resources: reviewMethods.map((m) => m.methodArn),
        }),
      );
      // Path parameters make two of the method ARNs end in wildcards ({reviewId} → *): exactly those routes.
      const stack = Stack.of(this);
      const apiId = stack.getLogicalId(api.node.defaultChild as CfnElement);
      const stageId = stack.getLogicalId(api.deploymentStage.node.defaultChild as CfnElement);
      for (const route of ['GET/v1/reviews/*', 'POST/v1/reviews/*/decision']) {
        acknowledge(
          reviewer.policy,
          `AwsSolutions-IAM5[Resource::${nagArnPrefix(this, 'execute-api')}:<${apiId}>/<${stageId}>/${route}]`,
          'The wildcard is the {reviewId} path parameter of this one review route on this API and stage; reviewers may act on any review of this tenant, and the routes themselves are enumerated.',
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
      // In one account, IAM authorization lets any principal whose own policy allows execute-api:Invoke call the
      // review routes (an administrator's `*` included). The resource policy allows them to the reviewer role and
      // denies them to every other principal: an explicit deny wins over any allow.
      resourcePolicy.addStatements(
        new iam.PolicyStatement({
          sid: 'ReviewRoutesForTheReviewerRole',
          principals: [reviewer.role],
          actions: ['execute-api:Invoke'],
          resources: reviewMethods.map(route),
        }),
        new iam.PolicyStatement({
          sid: 'ReviewRoutesForNobodyElse',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources: ['execute-api:/*/*/v1/reviews', 'execute-api:/*/*/v1/reviews/*'],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': reviewer.role.roleArn } },
        }),
      );
    }
    // API Gateway applies a changed resource policy only with a new deployment. CDK's deployment logical id
    // already hashes the RestApi's own properties, the policy included (aws-apigateway LatestDeploymentResource,
    // aws-cdk-lib 2.276), so a policy change creates a new deployment; a test holds that.

    const apiKey = api.addApiKey('ApiKey', { description: `Switchboard ${props.tenantId} tenant key` });
    const usagePlan = api.addUsagePlan('UsagePlan', {
      name: `switchboard-${props.tenantId}`,
      description: `Switchboard ${props.tenantId}: throttle and quota from the tenant file`,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      quota: { limit: props.quota.limit, period: apigw.Period[props.quota.period] },
      apiStages: [{ api, stage: api.deploymentStage }],
    });
    usagePlan.addApiKey(apiKey);

    if (props.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: api.deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    }

    for (const m of methods) {
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
    this.apiKey = apiKey;
    this.usagePlan = usagePlan;
    this.accessLogGroup = accessLogGroup;
  }

  /** The base URL callers use (`…/live`). */
  get url(): string {
    return this.api.url;
  }
}
