/**
 * The AWS quotas a Switchboard fleet consumes, with their default values and where they were read. A raised
 * quota of an account is set in `cdk.json` (`context.switchboard.quotas`, by id). Values were read on the day
 * given; AWS changes defaults, and an account's applied value can be lower (new accounts) or higher (raised):
 * `aws service-quotas get-service-quota` tells.
 */
import type { QuotaKind, Source } from './types';

/** A quota of the catalog. */
export interface QuotaSpec {
  readonly id: string;
  /** As AWS names it. */
  readonly name: string;
  readonly service: string;
  /** `deploy`: crossing it fails a deploy. `runtime`: crossing it throttles or truncates at run time. */
  readonly kind: QuotaKind;
  readonly defaultLimit: number;
  /** Whether AWS raises it on request (Service Quotas or Support). */
  readonly adjustable: boolean;
  readonly source: Source;
  /** How the fleet's use is counted. */
  readonly counting: string;
}

const READ_ON = '2026-12-02';
const APIGW =
  'https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html';
const APIGW_ACCOUNT = 'https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html';
const LAMBDA_RESERVED = 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html';
const IAM = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html';
const EVENTS = 'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html';
const CFN = 'https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html';
const SEARCH = 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html';
const SNS = 'https://aws.amazon.com/sns/features/';
const KMS = 'https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html';
const STATES = 'https://docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html';
const WAF = 'https://docs.aws.amazon.com/waf/latest/developerguide/limits.html';
const BACKUP = 'https://docs.aws.amazon.com/aws-backup/latest/devguide/aws-backup-limits.html';
const BEDROCK = 'https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-runtime.html';
const DYNAMODB = 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html';
const BEDROCK_QUOTAS = 'https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock';
const COGNITO = 'https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html#resource-quotas';

const q = (
  id: string,
  name: string,
  service: string,
  kind: QuotaKind,
  defaultLimit: number,
  adjustable: boolean,
  url: string,
  counting: string,
): QuotaSpec => ({ id, name, service, kind, defaultLimit, adjustable, source: { url, readOn: READ_ON }, counting });

/**
 * CloudWatch's limits on SEARCH expressions, which the fleet dashboard is built within (lib/constructs/monitoring):
 * a SEARCH returns at most {@link SEARCH_LIMITS.seriesPerSearch} time series (the rest are dropped, silently), its
 * query is at most {@link SEARCH_LIMITS.queryChars} characters, a graph holds at most
 * {@link SEARCH_LIMITS.searchesPerGraph} SEARCH expressions and shows at most {@link SEARCH_LIMITS.seriesPerGraph}
 * time series, and a SEARCH finds only metrics that reported data within the past two weeks (an idle tenant drops
 * off the dashboard after two weeks and comes back with its next request).
 */
export const SEARCH_LIMITS = {
  seriesPerSearch: 500,
  queryChars: 1024,
  searchesPerGraph: 100,
  seriesPerGraph: 500,
  lookbackDays: 14,
} as const;
export const SEARCH_LIMITS_SOURCE: Source = {
  url: SEARCH,
  readOn: READ_ON,
  note: '"up to 500 time series" per SEARCH (also the CDK SearchExpression docs); query at most 1024 characters, as many as 100 search expressions on one graph, a graph displays as many as 500 time series; only metrics with data within the past two weeks. An older version of the page said 5 searches and 100 series per graph',
};

/** Ids of the quotas the capacity model counts (the keys `cdk.json` may raise). */
export const QUOTA_IDS = {
  restApis: 'apigateway.regionalRestApis',
  usagePlans: 'apigateway.usagePlans',
  apiKeys: 'apigateway.apiKeys',
  clientCertificates: 'apigateway.clientCertificates',
  accountThrottle: 'apigateway.accountThrottleRps',
  concurrency: 'lambda.concurrentExecutions',
  roles: 'iam.roles',
  policies: 'iam.customerManagedPolicies',
  rules: 'events.rulesPerBus',
  stacks: 'cloudformation.stacks',
  resourcesPerStack: 'cloudformation.resourcesPerStack',
  searchSeries: 'cloudwatch.searchTimeSeries',
  topics: 'sns.topics',
  keys: 'kms.customerManagedKeys',
  stateMachines: 'states.stateMachines',
  tables: 'dynamodb.tables',
  webAcls: 'wafv2.webAcls',
  backupSelections: 'backup.tagSelectionsPerPlan',
  guardrails: 'bedrock.guardrails',
  appClients: 'cognito.appClientsPerUserPool',
  userPoolGroups: 'cognito.groupsPerUserPool',
} as const;

/** The quotas of the capacity model, in report order. */
export const QUOTAS: readonly QuotaSpec[] = [
  q(
    QUOTA_IDS.restApis,
    'Regional APIs per Region',
    'API Gateway',
    'deploy',
    600,
    false,
    APIGW,
    'One REST API per silo tenant and per pool cell, and the control plane’s (pooled tenants share their cell’s).',
  ),
  q(
    QUOTA_IDS.usagePlans,
    'Usage plans per account per Region',
    'API Gateway',
    'deploy',
    300,
    true,
    APIGW,
    'One usage plan per silo tenant (pooled tenants have none: their rate and quota are enforced by their cell).',
  ),
  q(
    QUOTA_IDS.apiKeys,
    'API keys per account per Region',
    'API Gateway',
    'deploy',
    10_000,
    false,
    APIGW,
    'One API key per silo tenant (pooled tenants’ keys are registry items, not API Gateway keys).',
  ),
  q(
    QUOTA_IDS.clientCertificates,
    'Client certificates per account per Region',
    'API Gateway',
    'deploy',
    60,
    true,
    APIGW,
    'None: Lambda proxy integrations never present a client certificate.',
  ),
  q(
    QUOTA_IDS.accountThrottle,
    'Throttle quota per account, per Region (requests per second)',
    'API Gateway',
    'runtime',
    10_000,
    true,
    APIGW_ACCOUNT,
    "Sum of the tenants' rates (silo: usage plan; pooled: the admission rate their cell enforces): what the fleet may send at once when every tenant is at its throttle. Pooled tenants share their cells' APIs and are oversubscribed by design: past the limit, requests are throttled at the peak.",
  ),
  q(
    QUOTA_IDS.concurrency,
    'Concurrent executions, of which 100 stay unreserved (the limit shown is what may be reserved)',
    'Lambda',
    'deploy',
    1_000,
    true,
    LAMBDA_RESERVED,
    'Reserved concurrency of every function, against the account quota minus the 100 executions Lambda keeps unreserved. New accounts have a lower quota: any reservation fails until it is at least 100 above what is reserved.',
  ),
  q(
    QUOTA_IDS.roles,
    'Roles in an AWS account',
    'IAM',
    'deploy',
    1_000,
    true,
    IAM,
    'IAM roles of every stack: platform, control plane, each pool cell, each silo tenant (IAM is global: roles of other regions and workloads of the account count too).',
  ),
  q(
    QUOTA_IDS.policies,
    'Customer managed policies in an AWS account',
    'IAM',
    'deploy',
    1_500,
    true,
    IAM,
    'Customer managed policies of every stack (one per role, plus the shared runtime policy).',
  ),
  q(
    QUOTA_IDS.rules,
    'Rules per event bus',
    'EventBridge',
    'deploy',
    300,
    true,
    EVENTS,
    "Rules on the default bus: each silo tenant's housekeeping schedule and each pool cell's reconciliation schedule.",
  ),
  q(
    QUOTA_IDS.stacks,
    'Stacks per account per Region',
    'CloudFormation',
    'deploy',
    2_000,
    true,
    CFN,
    'The platform and control plane stacks, one per pool cell and one per silo tenant.',
  ),
  q(
    QUOTA_IDS.resourcesPerStack,
    'Resources declared in a template',
    'CloudFormation',
    'deploy',
    500,
    false,
    CFN,
    'The largest stack (not a sum): a tenant stack grows with its e-mail subscriptions.',
  ),
  q(
    QUOTA_IDS.searchSeries,
    'Time series one SEARCH expression can return',
    'CloudWatch',
    'runtime',
    SEARCH_LIMITS.seriesPerSearch,
    false,
    SEARCH,
    'One series per silo tenant in each fleet-dashboard SEARCH over TenantId (pooled tenants are searched per cell, at most a cell’s capacity each): past the limit, fleet totals and top-10 widgets miss tenants.',
  ),
  q(QUOTA_IDS.topics, 'Standard topics per account', 'SNS', 'deploy', 100_000, true, SNS, 'SNS topics of every stack.'),
  q(
    QUOTA_IDS.keys,
    'Customer managed keys per Region',
    'KMS',
    'deploy',
    100_000,
    true,
    KMS,
    'The platform key, the guardrail key, the registry key, the keys of each pool cell and one key per silo tenant. The keys of deleted tenants are retained and count until they are deleted (scheduled deletion).',
  ),
  q(
    QUOTA_IDS.stateMachines,
    'Registered state machines',
    'Step Functions',
    'deploy',
    10_000,
    true,
    STATES,
    "Each silo tenant's review workflow and each pool cell's.",
  ),
  q(
    QUOTA_IDS.appClients,
    'App clients per user pool',
    'Amazon Cognito',
    'deploy',
    1_000,
    true,
    COGNITO,
    "The platform's reviewer user pool has one app client per review console: one per silo tenant stack and one per pool cell.",
  ),
  q(
    QUOTA_IDS.userPoolGroups,
    'Groups per user pool',
    'Amazon Cognito',
    'deploy',
    10_000,
    false,
    COGNITO,
    'One reviewer group (tenant-<id>) per silo tenant, in its stack, and per pooled tenant whose reviews go to people (the control plane creates it): pooled tenants without human review need none.',
  ),
  q(
    QUOTA_IDS.tables,
    'Tables per account per Region',
    'DynamoDB',
    'deploy',
    2_500,
    true,
    DYNAMODB,
    'The registry, one pooled ledger per cell and one ledger per silo tenant. The ledgers of deleted tenants are retained and still count until deleted.',
  ),
  q(
    QUOTA_IDS.webAcls,
    'Web ACLs per account per Region',
    'WAF',
    'deploy',
    100,
    true,
    WAF,
    'One shared web ACL (per-tenant rate limits are rate-rule keys, not web ACLs).',
  ),
  q(
    QUOTA_IDS.backupSelections,
    'Resource selections that use tags in a plan',
    'AWS Backup',
    'deploy',
    10,
    false,
    BACKUP,
    'One tag-based selection selects every tenant ledger (one selection per tenant would cross this at 10 tenants).',
  ),
  {
    ...q(
      QUOTA_IDS.guardrails,
      'Guardrails per account',
      'Bedrock',
      'deploy',
      100,
      true,
      BEDROCK_QUOTAS,
      "One shared guardrail per plan (platform stack) and one per tenant whose file customizes its guardrail (a tenant that does not shares its plan's): a guardrail per tenant would stop the fleet at about 100 tenants.",
    ),
    source: {
      url: BEDROCK_QUOTAS,
      readOn: READ_ON,
      note: 'The General Reference table was not readable on the day; 100 as stated by secondary sources (and "Versions per guardrail" 20). Check the applied value: aws service-quotas list-service-quotas --service-code bedrock',
    },
  },
];

/** Quotas that hold for the whole account (IAM is global): every region's stacks count against one limit. */
export const ACCOUNT_WIDE_QUOTAS: ReadonlySet<string> = new Set([QUOTA_IDS.roles, QUOTA_IDS.policies]);

/** Executions Lambda keeps unreserved: what may be reserved is the account quota minus this. */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/**
 * The API Gateway integration timeout of Regional REST APIs: 29 s unless raised (the quota "Maximum integration
 * timeout in milliseconds"; raising it can lower the account's throttle quota). `cdk.json` sets a raised value
 * in seconds as `quotas["apigateway.integrationTimeoutSeconds"]`.
 */
export const INTEGRATION_TIMEOUT = {
  id: 'apigateway.integrationTimeoutSeconds',
  defaultSeconds: 29,
  source: {
    url: 'https://aws.amazon.com/about-aws/whats-new/2024/06/amazon-api-gateway-integration-timeout-limit-29-seconds/',
    readOn: READ_ON,
  },
} as const;

/** Bedrock's tokens-per-minute quotas are per model: their ids are `bedrock.tpm.<model id>`. */
export const BEDROCK_TPM_PREFIX = 'bedrock.tpm.';
export const BEDROCK_TPM_SOURCE: Source = { url: BEDROCK, readOn: READ_ON };

/** Every id `cdk.json` may raise. */
export function knownQuotaIds(modelIds: readonly string[]): string[] {
  return [...QUOTAS.map((x) => x.id), INTEGRATION_TIMEOUT.id, ...modelIds.map((m) => `${BEDROCK_TPM_PREFIX}${m}`)];
}
