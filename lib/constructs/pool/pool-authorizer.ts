import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { API_KEY_HEADER, REGISTRY_TABLE_ENV } from '../../../lambda/pool-authorizer/authorizer';
import { ERROR_CODES, type ErrorCode } from '../../../lambda/shared/errors';
import { REGISTRY_PK_PREFIXES } from '../../../lambda/shared/registry-schema';
import { acknowledge, nagArnPrefix } from '../../compliance/acknowledge';
import { handlerOf } from '../bundling';
import { REGISTRY_KEY_WILDCARD_REASON, registryKeyReadStatement } from '../control-plane/tenant-registry';
import { TenantFunction } from '../functions/tenant-function';

/** Props of {@link PoolAuthorizer}. */
export interface PoolAuthorizerProps {
  /** Cell name (`pool-1`), for descriptions. */
  readonly cellId: string;
  /** The tenant registry (lambda/shared/registry-schema.ts): the authorizer reads key and tenant items. */
  readonly registryTable: dynamodb.ITable;
  /** Key encrypting the function's log group and dead-letter topic. */
  readonly key: kms.IKey;
  /** Shared customer-managed policies for the function's role (X-Ray). */
  readonly sharedPolicies: readonly iam.IManagedPolicy[];
  /**
   * How long API Gateway reuses an answer for the same key. This, plus the function's container cache (10 s,
   * lambda/pool-authorizer/core/lookup-cache.ts), is how long a suspended or deleted key may still be let through.
   * @default Duration.seconds(60)
   */
  readonly resultsCacheTtl?: Duration;
}

/** The most API Gateway allows for an authorizer's cache (AuthorizerResultTtlInSeconds). */
export const MAX_AUTHORIZER_TTL_SECONDS = 3600;

/**
 * API Gateway's answers when the pool authorizer refuses, in the Switchboard error envelope. ACCESS_DENIED is the
 * authorizer's Deny (unknown, suspended, deleted or malformed key); UNAUTHORIZED is a request without the header
 * (API Gateway answers it without calling the authorizer) or the authorizer's `Unauthorized`; AUTHORIZER_FAILURE is
 * the authorizer failing (the registry unreachable): a 500, never an allow.
 */
export const POOL_AUTH_GATEWAY_RESPONSES: ReadonlyArray<{
  readonly type: apigw.ResponseType;
  readonly code: ErrorCode;
  readonly message: string;
}> = [
  {
    type: apigw.ResponseType.UNAUTHORIZED,
    code: 'unauthorized',
    message: 'Missing API key: send it in the x-api-key header',
  },
  {
    type: apigw.ResponseType.ACCESS_DENIED,
    code: 'forbidden',
    message: 'This API key is not valid, or its tenant is suspended or offboarded',
  },
  { type: apigw.ResponseType.AUTHORIZER_FAILURE, code: 'internal_error', message: 'Authorization failed; retry later' },
  {
    type: apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR,
    code: 'internal_error',
    message: 'API configuration error; contact the platform team',
  },
];

/**
 * A pool cell's API key authorizer: the pool-authorizer function (reading only the registry's `KEY#` and `TENANT#` items) as a
 * REQUEST authorizer on the `x-api-key` header, cached by API Gateway per key for `resultsCacheTtl`.
 *
 * Why 60 s by default: API Gateway caches an authorizer's policy per identity source (default 300 s, at most
 * 3600 s; 0 turns the cache off, see AuthorizerResultTtlInSeconds in
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-authorizer.html). Every
 * second of TTL is a second a suspended or offboarded key keeps working; with no cache every request costs an
 * authorizer invocation and a registry read. 60 s + the container's 10 s bounds revocation at about 70 s while a busy
 * key costs one invocation a minute. The control plane can end it sooner by flushing the stage's authorizer cache
 * (FlushStageAuthorizersCache) when it suspends or offboards a tenant.
 */
export class PoolAuthorizer extends Construct {
  readonly authorizer: apigw.RequestAuthorizer;
  readonly function: TenantFunction;

  constructor(scope: Construct, id: string, props: PoolAuthorizerProps) {
    super(scope, id);
    const ttl = props.resultsCacheTtl ?? Duration.seconds(60);
    if (!ttl.isUnresolved() && ttl.toSeconds() > MAX_AUTHORIZER_TTL_SECONDS) {
      throw new Error(
        `PoolAuthorizer ${this.node.path}: resultsCacheTtl: ${ttl.toSeconds()} s is more than API Gateway's ${MAX_AUTHORIZER_TTL_SECONDS} s`,
      );
    }
    this.function = new TenantFunction(this, 'Function', {
      tenantId: props.cellId,
      handler: handlerOf<typeof import('../../../lambda/pool-authorizer/index')>('pool-authorizer'),
      purpose: 'pool API key authorizer (key hash to tenant)',
      key: props.key,
      sharedPolicies: props.sharedPolicies,
      environment: { [REGISTRY_TABLE_ENV]: props.registryTable.tableName },
      calls: 'DynamoDB (the tenant registry)',
      trafficBoundBy: "The cell API's stage throttle, and API Gateway's cache of the authorizer's answer per key,",
      memoryMb: 256,
      timeout: Duration.seconds(5),
    });
    this.function.addStatements(
      new iam.PolicyStatement({
        // The key lookup (lambda/shared/registry-lookup.ts) reads the key item, then the tenant item it names.
        sid: 'ReadApiKeyAndTenantItems',
        actions: ['dynamodb:GetItem'],
        resources: [props.registryTable.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': [`${REGISTRY_PK_PREFIXES.apiKey}*`, `${REGISTRY_PK_PREFIXES.tenant}*`],
          },
        },
      }),
    );
    // The registry's key lives in the control plane stack, which a cell may not reference.
    this.function.addStatements(registryKeyReadStatement(this));
    acknowledge(
      this.function.rolePolicy,
      `AwsSolutions-IAM5[Resource::${nagArnPrefix(this, 'kms')}:key/*]`,
      REGISTRY_KEY_WILDCARD_REASON,
    );
    this.authorizer = new apigw.RequestAuthorizer(this, 'Authorizer', {
      handler: this.function.fn,
      identitySources: [apigw.IdentitySource.header(API_KEY_HEADER)],
      resultsCacheTtl: ttl,
    });
  }

  /** Adds the authorizer's gateway responses (401/403/500 in the error envelope) to `api`. */
  addGatewayResponses(api: apigw.IRestApi): void {
    for (const r of POOL_AUTH_GATEWAY_RESPONSES) {
      new apigw.GatewayResponse(this, `Gw${r.type.responseType}`, {
        restApi: api,
        type: r.type,
        statusCode: String(ERROR_CODES[r.code]),
        responseHeaders: { 'Content-Type': "'application/json'" },
        templates: {
          'application/json': `{"error":{"code":"${r.code}","message":"${r.message}","requestId":"$context.requestId"}}`,
        },
      });
    }
  }
}
