/**
 * What the control plane function may do to the pool cells, as the statements its role needs (built by the control
 * plane stack from these, tested with test/support/iam-eval.ts in test/lambda/control-plane/purge.test.ts), so the
 * handler's calls and the role's policy are written from one place.
 */
import { LEDGER_KEYS } from './ledger-schema';

/**
 * The keys-only Scan of a cell's pooled ledger (the purge finds a tenant's items with it): allowed only when the
 * request asks for specific attributes, all of them keys. The control plane can find which keys a tenant has, never
 * read what they hold. Resource: the ledger table's ARN (not its indexes). The shape of IAM's own example,
 * "Amazon DynamoDB: Allows access to specific attributes"
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_dynamodb_attributes.html), with
 * `dynamodb:Select` required rather than `IfExists`, and the attributes required present.
 */
export const LEDGER_KEYS_ONLY_SCAN = {
  actions: ['dynamodb:Scan'],
  conditions: {
    StringEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
    'ForAllValues:StringEquals': { 'dynamodb:Attributes': [LEDGER_KEYS.partitionKey, LEDGER_KEYS.sortKey] },
    Null: { 'dynamodb:Attributes': 'false' },
  },
} as const;

/**
 * Assuming a cell's tenant-access role with the tenant session tag (the purge deletes through it): the control
 * plane's role needs these actions on the role, and the role's trust must allow the control plane's role with the
 * same tag conditions as the pooled function's (lib/constructs/pool/tenant-access-role.ts).
 */
export const TENANT_ACCESS_ASSUME_ACTIONS = ['sts:AssumeRole', 'sts:TagSession'] as const;

/** FlushStageAuthorizersCache is `DELETE` on the stage's authorizer cache path (IAM action `apigateway:DELETE`). */
export const FLUSH_AUTHORIZERS_CACHE_ACTION = 'apigateway:DELETE';

/** The resource ARN FlushStageAuthorizersCache is authorized on. */
export function flushAuthorizersCacheArn(partition: string, region: string, restApiId: string, stage: string): string {
  return `arn:${partition}:apigateway:${region}::/restapis/${restApiId}/stages/${stage}/cache/authorizers`;
}
