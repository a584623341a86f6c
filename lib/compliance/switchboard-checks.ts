/**
 * Switchboard's own multi-tenant rules, as a cdk-nag pack, for what the standard packs do not check:
 * tenant data is retained, tenant keys are not usable by the whole account, model access is scoped
 * to named models, and no policy lets a model be called without a guardrail.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { NagMessageLevel, NagPack, type NagPackProps, NagRuleCompliance } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { CRYPTO_SHRED_METADATA, KMS_PENDING_WINDOW_DAYS } from '../../lambda/shared/silo-key';

/** Key actions that let a principal use key material (directly or by granting itself use). */
const CRYPTO_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:CreateGrant'];
/** Key administration that can be turned into key use: whoever may rewrite the policy may give itself use. */
const POLICY_ACTIONS = ['kms:PutKeyPolicy'];

/** True when an IAM action pattern (`*`, `kms:*`, `kms:De*`) covers one of `actions`. */
function actionCoversAny(action: string, actions: readonly string[]): boolean {
  const re = new RegExp(
    `^${action
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return actions.some((a) => re.test(a));
}

/** True when a resolved `Principal` is the account root, a bare account id or everyone. */
function isAccountWide(principal: unknown): boolean {
  if (principal === '*') return true;
  const aws = (principal as { AWS?: unknown })?.AWS;
  return asArray(aws).some((p) => {
    const text = typeof p === 'string' ? p : JSON.stringify(p);
    return text === '*' || /^\d{12}$/.test(text) || /:root("|$)/.test(text);
  });
}

function statementsOf(doc: unknown): Array<Record<string, unknown>> {
  const s = (doc as { Statement?: unknown })?.Statement;
  return Array.isArray(s) ? (s as Array<Record<string, unknown>>) : [];
}
const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The values a statement's condition gives `key` under one of `operators` (case-insensitive key). */
function conditionValues(st: Record<string, unknown>, operators: readonly string[], key: string): unknown[] {
  const cond = (st.Condition ?? {}) as Record<string, Record<string, unknown>>;
  const out: unknown[] = [];
  for (const op of operators) {
    for (const [k, v] of Object.entries(cond[op] ?? {}))
      if (k.toLowerCase() === key.toLowerCase()) out.push(...asArray(v));
  }
  return out;
}

/** A resolved value as text: `Ref` → `<Name>`, `Fn::Join` joined, anything else as JSON. */
export function flattenIntrinsic(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = (v ?? {}) as Record<string, unknown>;
  if (typeof o.Ref === 'string') return `<${o.Ref}>`;
  const join = o['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) return join[1].map(flattenIntrinsic).join(String(join[0]));
  return JSON.stringify(v);
}

/**
 * The services whose resources Switchboard encrypts with a customer managed key on the caller's behalf: the only
 * ones the account may use a key through. (Through another service, such as SSM SecureString, any principal could
 * encrypt and decrypt what it likes.)
 */
const KEY_INTEGRATED_SERVICES = ['dynamodb', 'backup', 'bedrock'] as const;

/** A value that names one of {@link KEY_INTEGRATED_SERVICES}' endpoints (the region possibly a token). */
function isServiceEndpoint(v: unknown): boolean {
  const text = flattenIntrinsic(v);
  return (
    KEY_INTEGRATED_SERVICES.some((svc) =>
      new RegExp(`^${svc}\\.[a-z0-9<>:-]+\\.amazonaws\\.com(\\.cn)?$`, 'i').test(text),
    ) && !text.includes('*')
  );
}

/**
 * Why an Allow statement of a key policy lets the whole account use or take over the key, or `undefined`:
 * - key use (Encrypt, Decrypt, data keys, re-encryption, grants) for an account-wide principal is allowed
 *   only for principals named by `aws:PrincipalArn` (ArnEquals or StringEquals, no wildcard), or only through
 *   services (`kms:ViaService` naming service endpoints, no wildcards), and grants only for AWS
 *   resources (`kms:GrantIsForAWSResource`);
 * - `kms:PutKeyPolicy` for an account-wide principal is allowed only for named principals
 *   (`aws:PrincipalArn` without wildcards).
 */
export function accountWideKeyUse(st: Record<string, unknown>): string | undefined {
  if (st.Effect !== 'Allow' || !isAccountWide(st.Principal)) return undefined;
  // NotAction allows everything it does not name: key use and PutKeyPolicy included, whatever the conditions.
  if (st.NotAction !== undefined) return 'allows the account every action but those in NotAction';
  const actions = asArray(st.Action).map(String);
  // Principals named one by one (`aws:PrincipalArn` equal to ARNs without wildcards) are not the account,
  // whatever the statement's Principal says (it must be the account for ARNs of roles that may not exist yet).
  const named = conditionValues(st, ['ArnEquals', 'StringEquals'], 'aws:PrincipalArn');
  const onlyNamed = named.length > 0 && named.every((v) => !JSON.stringify(v).includes('*'));
  if (!onlyNamed && actions.some((a) => actionCoversAny(a, CRYPTO_ACTIONS))) {
    const via = conditionValues(st, ['StringEquals', 'ForAnyValue:StringEquals'], 'kms:ViaService');
    if (via.length === 0 || !via.every(isServiceEndpoint)) {
      return `gives the account cryptographic use not limited to the services that encrypt with the key (kms:ViaService: ${KEY_INTEGRATED_SERVICES.join(', ')})`;
    }
    const grant = conditionValues(st, ['Bool'], 'kms:GrantIsForAWSResource');
    if (actions.some((a) => actionCoversAny(a, ['kms:CreateGrant'])) && !grant.map(String).includes('true')) {
      return 'lets the account create grants not limited to AWS resources (kms:GrantIsForAWSResource)';
    }
  }
  if (actions.some((a) => actionCoversAny(a, POLICY_ACTIONS))) {
    const who = conditionValues(st, ['ArnEquals', 'ArnLike', 'StringEquals', 'StringLike'], 'aws:PrincipalArn');
    if (who.length === 0 || who.some((v) => JSON.stringify(v).includes('*'))) {
      return 'lets any principal of the account rewrite the key policy (kms:PutKeyPolicy without aws:PrincipalArn)';
    }
  }
  return undefined;
}

/** Condition keys that name the source on whose behalf a service acts (the confused-deputy guards). */
const SOURCE_KEYS = ['aws:SourceAccount', 'aws:SourceArn', 'aws:SourceOrgID', 'aws:SourceOrgPaths'];

/**
 * Guards a service documents instead of the source keys, by service principal: CloudWatch Logs names the log group
 * in the encryption context (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
 */
const EQUIVALENT_GUARDS: ReadonlyArray<{ readonly service: RegExp; readonly keys: readonly string[] }> = [
  { service: /^logs\.[a-z0-9<>:-]+\.amazonaws\.com$/, keys: ['kms:EncryptionContext:aws:logs:arn'] },
];

/**
 * Service principals that may assume a role without a source guard, and why: AWS documents no source keys for
 * them, and a condition on a key the service does not send would deny it (IAM: a positive condition on an absent
 * key is false).
 */
const SERVICES_WITHOUT_SOURCE_KEYS: Readonly<Record<string, string>> = {
  'lambda.amazonaws.com':
    'Lambda documents no aws:SourceArn/aws:SourceAccount for assuming an execution role (it documents lambda:SourceFunctionArn for using the credentials: https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html); only a principal of this account allowed iam:PassRole on the role can attach it to a function.',
};

/** Key actions that only read a key's metadata: a service using them on another's behalf reads nothing secret. */
const isMetadataAction = (a: string) => /^kms:(Describe|Get|List)[A-Za-z*]*$/i.test(a);

/** The service principals a statement names (regional names and tokens flattened). */
function servicePrincipals(st: Record<string, unknown>): string[] {
  const service = (st.Principal as { Service?: unknown } | undefined)?.Service;
  return asArray(service).map(flattenIntrinsic);
}

/** Whether any condition of `st` (under any operator, IfExists and set operators included) names one of `keys`. */
function conditionNames(st: Record<string, unknown>, keys: readonly string[]): boolean {
  const wanted = keys.map((k) => k.toLowerCase());
  return Object.values((st.Condition ?? {}) as Record<string, Record<string, unknown>>).some((byKey) =>
    Object.keys(byKey ?? {}).some((k) => wanted.includes(k.toLowerCase())),
  );
}

/**
 * Why an Allow statement of a key policy (`kind` "key") or trust policy ("trust") lets an AWS service act for
 * anyone — another account, or a resource it was not meant for — or `undefined`: every service principal it
 * names needs `aws:SourceAccount`, `aws:SourceArn` (or the organization source keys) or the guard its service
 * documents instead, except for statements that only read key metadata and, in trust policies, the services of
 * {@link SERVICES_WITHOUT_SOURCE_KEYS}.
 */
function unguardedServicePrincipal(st: Record<string, unknown>, kind: 'key' | 'trust'): string | undefined {
  if (st.Effect !== 'Allow') return undefined;
  const services = servicePrincipals(st);
  if (services.length === 0) return undefined;
  if (kind === 'key' && st.NotAction === undefined && asArray(st.Action).map(String).every(isMetadataAction)) {
    return undefined;
  }
  if (conditionNames(st, SOURCE_KEYS)) return undefined;
  const unguarded = services.filter(
    (svc) =>
      !(kind === 'trust' && SERVICES_WITHOUT_SOURCE_KEYS[svc] !== undefined) &&
      !EQUIVALENT_GUARDS.some((g) => g.service.test(svc) && conditionNames(st, g.keys)),
  );
  return unguarded.length
    ? `lets ${unguarded.join(', ')} act without aws:SourceAccount or aws:SourceArn (confused deputy)`
    : undefined;
}

/**
 * DynamoDB tables and KMS keys are retained when their stack is deleted (tenant data outlives a stack). The one
 * exception is a silo tenant's key marked for crypto-shredding (`CRYPTO_SHRED_METADATA`): deleted with its stack, and
 * only with a pending window within KMS's bounds (the deletion can be cancelled during it).
 */
export function RetainTenantData(node: CfnResource): NagRuleCompliance {
  if (!(node instanceof dynamodb.CfnTable) && !(node instanceof kms.CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const shred = node instanceof kms.CfnKey ? node.getMetadata(CRYPTO_SHRED_METADATA) : undefined;
  if (shred !== undefined) {
    const days = (node as kms.CfnKey).pendingWindowInDays;
    const inBounds =
      typeof days === 'number' && days >= KMS_PENDING_WINDOW_DAYS.min && days <= KMS_PENDING_WINDOW_DAYS.max;
    const deleted = node.cfnOptions.deletionPolicy === 'Delete' && node.cfnOptions.updateReplacePolicy === 'Delete';
    return inBounds && deleted && days === shred.pendingWindowDays
      ? NagRuleCompliance.COMPLIANT
      : NagRuleCompliance.NON_COMPLIANT;
  }
  const retained = node.cfnOptions.deletionPolicy === 'Retain' && node.cfnOptions.updateReplacePolicy === 'Retain';
  return retained ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}

/**
 * A key policy gives cryptographic use only to named principals and, for the whole account, only through AWS
 * services; and lets only named principals change the policy ({@link accountWideKeyUse}).
 */
export function KeyNotUsableByAccount(node: CfnResource): NagRuleCompliance {
  if (!(node instanceof kms.CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const policy = Stack.of(node).resolve(node.keyPolicy);
  return statementsOf(policy).some((st) => accountWideKeyUse(st) !== undefined)
    ? NagRuleCompliance.NON_COMPLIANT
    : NagRuleCompliance.COMPLIANT;
}

/**
 * Key policies and role trust policies give AWS services access only on behalf of this account's sources
 * ({@link unguardedServicePrincipal}).
 */
export function ServicePrincipalsHaveSourceGuard(node: CfnResource): NagRuleCompliance {
  let doc: unknown;
  let kind: 'key' | 'trust';
  if (node instanceof kms.CfnKey) [doc, kind] = [node.keyPolicy, 'key'];
  else if (node instanceof iam.CfnRole) [doc, kind] = [node.assumeRolePolicyDocument, 'trust'];
  else return NagRuleCompliance.NOT_APPLICABLE;
  return statementsOf(Stack.of(node).resolve(doc)).some((st) => unguardedServicePrincipal(st, kind) !== undefined)
    ? NagRuleCompliance.NON_COMPLIANT
    : NagRuleCompliance.COMPLIANT;
}

/** The policy documents of an IAM policy resource (managed, inline, a role's inline policies), resolved. */
function policyDocumentsOf(node: CfnResource): unknown[] | undefined {
  let docs: unknown[];
  if (node instanceof iam.CfnManagedPolicy) docs = [node.policyDocument];
  else if (node instanceof iam.CfnPolicy) docs = [node.policyDocument];
  else if (node instanceof iam.CfnRole)
    docs = asArray(node.policies).map((p) => (p as { policyDocument: unknown }).policyDocument);
  else return undefined;
  const stack = Stack.of(node);
  return docs.map((d) => stack.resolve(d));
}

/**
 * Bedrock permissions name model or inference-profile ARNs, never a wildcard; `bedrock:ApplyGuardrail` names a
 * guardrail, never a wildcard. Deny statements restrict and are not checked.
 */
export function BedrockScopedToModels(node: CfnResource): NagRuleCompliance {
  const docs = policyDocumentsOf(node);
  if (!docs) return NagRuleCompliance.NOT_APPLICABLE;
  for (const doc of docs) {
    for (const st of statementsOf(doc)) {
      if (st.Effect === 'Deny') continue;
      const actions = asArray(st.Action).map(String);
      if (!actions.some((a) => a.toLowerCase().startsWith('bedrock:') || a === '*')) continue;
      const guardrailOnly = actions.every((a) => a.toLowerCase() === 'bedrock:applyguardrail');
      for (const r of asArray(st.Resource)) {
        const text = typeof r === 'string' ? r : JSON.stringify(r);
        if (guardrailOnly) {
          if (text.includes('*')) return NagRuleCompliance.NON_COMPLIANT;
          continue;
        }
        if (!/(foundation-model|inference-profile)\/[^*]+$/.test(text.replace(/"\]\]\}$/, ''))) {
          return NagRuleCompliance.NON_COMPLIANT;
        }
      }
    }
  }
  return NagRuleCompliance.COMPLIANT;
}

/** The actions that run a model: what the `bedrock:GuardrailIdentifier` condition guards. */
export const MODEL_CALL_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'] as const;

/**
 * Why an Allow statement lets a model be called without a guardrail, or `undefined`. It must carry a `StringEquals`
 * condition on `bedrock:GuardrailIdentifier` naming guardrail versions (no wildcard, no `DRAFT`): without one, code
 * holding the role can call the model with another guardrail or none. `…IfExists`, `StringLike` and negated
 * operators do not count. https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-id.html
 */
function modelCallWithoutGuardrail(st: Record<string, unknown>): string | undefined {
  if (st.Effect !== 'Allow') return undefined;
  if (st.NotAction !== undefined) {
    const excluded = asArray(st.NotAction).map(String);
    if (MODEL_CALL_ACTIONS.every((a) => excluded.some((x) => actionCoversAny(x, [a])))) return undefined;
  } else if (!asArray(st.Action).some((a) => actionCoversAny(String(a), MODEL_CALL_ACTIONS))) {
    return undefined;
  }
  const values = conditionValues(st, ['StringEquals'], 'bedrock:GuardrailIdentifier').map(flattenIntrinsic);
  if (values.length === 0) return 'allows model calls without a bedrock:GuardrailIdentifier condition (StringEquals)';
  const loose = values.find((v) => v === '' || v.includes('*') || v.includes('?') || /:DRAFT$/i.test(v));
  if (loose !== undefined) return `names a guardrail loosely (${loose}): name one published version`;
  return undefined;
}

/** No policy allows a Bedrock model call without the tenant's guardrail ({@link modelCallWithoutGuardrail}). */
export function GuardrailOnModelCalls(node: CfnResource): NagRuleCompliance {
  const docs = policyDocumentsOf(node);
  if (!docs) return NagRuleCompliance.NOT_APPLICABLE;
  return docs.some((doc) => statementsOf(doc).some((st) => modelCallWithoutGuardrail(st) !== undefined))
    ? NagRuleCompliance.NON_COMPLIANT
    : NagRuleCompliance.COMPLIANT;
}

/** The `Key`→`Value` tags CloudFormation puts on a table (rendered from its tag manager). */
function tagsOfTable(table: dynamodb.CfnTable): Record<string, string> {
  // The L1 renders `key`/`value` (CloudFormation's `Key`/`Value` come later).
  const rendered = Stack.of(table).resolve(table.tags.renderTags()) as
    | Array<{ key?: string; value?: string; Key?: string; Value?: string }>
    | undefined;
  return Object.fromEntries((rendered ?? []).map((t) => [t.key ?? t.Key, t.value ?? t.Value]));
}

type TagCondition = { ConditionKey?: string; ConditionValue?: string };

/** A glob of AWS Backup's StringLike (`*` any characters) as a regular expression. */
const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/**
 * Whether a backup selection selects a DynamoDB table with `tags`, evaluated as AWS Backup does: Resources (any
 * may match) AND every Conditions entry (StringEquals, StringLike, StringNotEquals, StringNotLike on
 * `aws:ResourceTag/…`), minus NotResources; or any ListOfTags entry (ORed).
 */
function selects(sel: backup.CfnBackupSelection, tags: Record<string, string>): boolean {
  const stack = Stack.of(sel);
  // Resolved L1 props are camelCase at the top; `conditions` is passed through as written (CloudFormation case).
  const body = stack.resolve(sel.backupSelection) as {
    resources?: unknown[];
    notResources?: unknown[];
    listOfTags?: Array<{ conditionKey?: string; conditionValue?: string; conditionType?: string }>;
    conditions?: Record<string, TagCondition[] | undefined>;
  };
  const isTables = (r: unknown) => /:dynamodb:.*:table\/\*$|^\*$/.test(flattenIntrinsic(r));
  const tag = (c: { ConditionKey?: string; conditionKey?: string }) =>
    tags[(c.ConditionKey ?? c.conditionKey ?? '').replace(/^aws:ResourceTag\//, '')];
  if ((body.notResources ?? []).some(isTables)) return false;
  if ((body.listOfTags ?? []).some((c) => tag(c) === c.conditionValue)) return true;
  if (!(body.resources ?? []).some(isTables)) return false;
  const c = body.conditions ?? {};
  const all = [
    ...(c.StringEquals ?? []).map((x) => tag(x) === x.ConditionValue),
    ...(c.StringNotEquals ?? []).map((x) => tag(x) !== x.ConditionValue),
    ...(c.StringLike ?? []).map((x) => tag(x) !== undefined && glob(String(x.ConditionValue)).test(tag(x)!)),
    ...(c.StringNotLike ?? []).map((x) => tag(x) === undefined || !glob(String(x.ConditionValue)).test(tag(x)!)),
  ];
  // A selection of every table of the account, without a tag condition, is not the tenant ledgers' selection.
  return all.length > 0 && all.every(Boolean);
}

/**
 * A retained DynamoDB table (tenant data) is selected by an AWS Backup selection of the app in its region (see
 * {@link selects}). Covers what cdk-nag's DynamoDBInBackupPlan cannot see (it only finds same-stack selections
 * naming the table).
 */
export function LedgerInBackupSelection(node: CfnResource): NagRuleCompliance {
  const policy = node.cfnOptions.deletionPolicy;
  if (!(node instanceof dynamodb.CfnTable) || (policy !== 'Retain' && policy !== 'RetainExceptOnCreate')) {
    return NagRuleCompliance.NOT_APPLICABLE;
  }
  const tags = tagsOfTable(node);
  const region = Stack.of(node).region;
  const selected = node.node.root.node
    .findAll()
    .filter((c): c is backup.CfnBackupSelection => c instanceof backup.CfnBackupSelection)
    .some((sel) => Stack.of(sel).region === region && selects(sel, tags));
  return selected ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}

/** The Switchboard rule pack. Ids: `Switchboard-<RuleName>`. */
export class SwitchboardChecks extends NagPack {
  readonly name = 'Switchboard';

  constructor(scope?: IConstruct, props?: NagPackProps) {
    super(scope, props);
    this.packName = 'Switchboard';
  }

  protected checkResource(node: CfnResource): void {
    if (!CfnResource.isCfnResource(node)) return;
    this.applyRule({
      info: 'Tenant data (DynamoDB table, KMS key) is not retained when its stack is deleted or replaced.',
      explanation:
        "Deleting a stack must never delete a ledger, and must never make one undecryptable by accident: the one key deleted with its stack is a silo tenant key marked for crypto-shredding (offboarding), scheduled for deletion after the tenant's retention (a KMS pending window of 7–30 days, during which it can be cancelled); every other key is retained.",
      level: NagMessageLevel.ERROR,
      rule: RetainTenantData,
      node,
    });
    this.applyRule({
      info: 'The KMS key policy lets the whole account use the key directly, or lets any principal of the account rewrite the policy (kms:PutKeyPolicy).',
      explanation:
        'A tenant key must be usable only by that tenant’s roles and, for the account, only through the services that encrypt with it (kms:ViaService, grants only for AWS resources); administration, PutKeyPolicy included, belongs to named administrators (aws:PrincipalArn), so another tenant’s role cannot be given use by IAM alone. https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html',
      level: NagMessageLevel.ERROR,
      rule: KeyNotUsableByAccount,
      node,
    });
    this.applyRule({
      info: 'A key policy or role trust policy lets an AWS service principal act without aws:SourceAccount or aws:SourceArn.',
      explanation:
        'Without a source guard, the service can be made to use the key or the role on behalf of another account or another resource (the cross-service confused deputy): name this account (aws:SourceAccount) and, where the service documents it, the resource (aws:SourceArn). https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html#cross-service-confused-deputy-prevention',
      level: NagMessageLevel.ERROR,
      rule: ServicePrincipalsHaveSourceGuard,
      node,
    });
    this.applyRule({
      info: 'A Bedrock permission is not scoped to named model or inference-profile ARNs.',
      explanation:
        'Tenants may call only the models of their allowed tiers; a wildcard would let a tenant reach every model (and its price).',
      level: NagMessageLevel.ERROR,
      rule: BedrockScopedToModels,
      node,
    });
    this.applyRule({
      info: 'A policy allows a Bedrock model call (bedrock:InvokeModel*) without a bedrock:GuardrailIdentifier condition naming one guardrail version.',
      explanation:
        'Every model call must apply the tenant’s guardrail (prompt attacks, harmful content, PII, denied topics); the condition makes IAM refuse a call that leaves it out, so code cannot skip it. https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-id.html',
      level: NagMessageLevel.ERROR,
      rule: GuardrailOnModelCalls,
      node,
    });
    this.applyRule({
      info: 'A retained DynamoDB table (tenant data) is not selected by any AWS Backup selection of the app in its region.',
      explanation:
        'Tenant ledgers are backed up by the platform’s one tag-based selection (AWS Backup limits the selections of a plan); a ledger without the selection’s tags is only point-in-time recoverable for 35 days. https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html',
      level: NagMessageLevel.ERROR,
      rule: LedgerInBackupSelection,
      node,
    });
  }
}
