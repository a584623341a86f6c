/**
 * Switchboard's deploy-readiness rules: what makes a synthesized app fail its first `cdk deploy` on a real
 * account, or stop a fleet from growing, though CDK and the compliance packs see nothing wrong. Each rule names the
 * AWS page it comes from. Rule ids: `SwitchboardDeploy-<Rule>`.
 */
import { CfnDeletionPolicy, CfnOutput, CfnResource, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as bedrock from 'aws-cdk-lib/aws-bedrock';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { NagMessageLevel, NagPack, type NagPackProps, NagRuleCompliance } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { API_LIMITS } from '../../lambda/shared/api-schema';
import { QUOTA_IDS } from '../capacity/quotas';
import { flattenIntrinsic } from './switchboard-checks';
import { rulesBlockingBody } from './waf-body';

type Json = Record<string, unknown>;
const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const statementsOf = (doc: unknown): Json[] => asArray((doc as { Statement?: unknown })?.Statement) as Json[];
const actionsOf = (st: Json) => asArray(st.Action).map(String);
const covers = (pattern: string, action: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action);

/** The L1 resource of `stack` whose logical id is `logicalId`. */
function byLogicalId(stack: Stack, logicalId: string): CfnResource | undefined {
  return stack.node
    .findAll()
    .find(
      (c): c is CfnResource =>
        CfnResource.isCfnResource(c) && Stack.of(c) === stack && stack.resolve(c.logicalId) === logicalId,
    );
}

/**
 * The L1 resources a property of `node` points at: `Ref` and `Fn::GetAtt` in its stack, and another stack's output
 * (`Fn::GetStackOutput`, a weak cross-stack reference, or `Fn::ImportValue` of an export). Lists and lazy values
 * are resolved first.
 */
function referenced(node: CfnResource, value: unknown): CfnResource[] {
  const stack = Stack.of(node);
  const resolved = stack.resolve(value) as unknown;
  const out: CfnResource[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const o = v as Json;
    if (typeof o.Ref === 'string') {
      const r = byLogicalId(stack, o.Ref);
      if (r) out.push(r);
      return;
    }
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
      const r = byLogicalId(stack, getAtt[0]);
      if (r) out.push(r);
      return;
    }
    const weak = o['Fn::GetStackOutput'] as { StackName?: unknown; OutputName?: unknown } | undefined;
    if (weak !== undefined) {
      // A weak cross-stack reference (cdk.json: defaultCrossStackReferences "weak"): the producer's output.
      for (const output of node.node.root.node.findAll()) {
        if (!(output instanceof CfnOutput)) continue;
        const other = Stack.of(output);
        if (other.stackName !== weak.StackName || other.resolve(output.logicalId) !== weak.OutputName) continue;
        out.push(...referencedIn(other, other.resolve(output.value)));
      }
      return;
    }
    if (o['Fn::ImportValue'] !== undefined) {
      const name = JSON.stringify(o['Fn::ImportValue']);
      for (const output of node.node.root.node.findAll()) {
        if (!(output instanceof CfnOutput)) continue;
        const other = Stack.of(output);
        if (JSON.stringify(other.resolve(output.exportName)) !== name) continue;
        out.push(...referencedIn(other, other.resolve(output.value)));
      }
      return;
    }
    for (const x of Object.values(o)) visit(x);
  };
  visit(resolved);
  return out;
}

/** `Ref`/`Fn::GetAtt` targets of a resolved value in `stack`. */
function referencedIn(stack: Stack, resolved: unknown): CfnResource[] {
  const ids = [...JSON.stringify(resolved).matchAll(/"(?:Ref|Fn::GetAtt)":\s*\[?"([^"]+)"/g)].map(([, id]) => id!);
  return ids.map((id) => byLogicalId(stack, id)).filter((r): r is CfnResource => r !== undefined);
}

/** The resolved key policy of the key a property of `node` points at, if it is a key of this app. */
function keyPolicyOf(node: CfnResource, keyRef: unknown): Json[] | undefined {
  const key = referenced(node, keyRef).find((r): r is kms.CfnKey => r instanceof kms.CfnKey);
  return key ? statementsOf(Stack.of(key).resolve(key.keyPolicy)) : undefined;
}

/** True when a resolved principal is the account (root, account id or `*`). */
function accountPrincipal(principal: unknown): boolean {
  if (principal === '*') return true;
  return asArray((principal as { AWS?: unknown })?.AWS).some((p) => {
    const text = flattenIntrinsic(p);
    return text === '*' || /^\d{12}$/.test(text) || /:root$/.test(text);
  });
}

/**
 * True when one Allow statement gives the account every one of `actions` through `service.<region>` (how the
 * service uses the key for whoever created the resource, CloudFormation included), and another (or the same) lets it
 * create grants for AWS resources through the service.
 */
function keyUsableThrough(statements: Json[], region: string, service: string, actions: readonly string[]): boolean {
  const through = (st: Json) => {
    if (st.Effect !== 'Allow' || !accountPrincipal(st.Principal)) return false;
    const cond = (st.Condition ?? {}) as Record<string, Json>;
    const via = asArray(cond.StringEquals?.['kms:ViaService']).map(flattenIntrinsic);
    return via.some(
      (v) => v === `${service}.${region}.amazonaws.com` || v === `${service}.<AWS::Region>.amazonaws.com`,
    );
  };
  const use = statements.some((st) => through(st) && actions.every((a) => actionsOf(st).some((p) => covers(p, a))));
  const grants = statements.some(
    (st) =>
      through(st) &&
      actionsOf(st).some((p) => covers(p, 'kms:CreateGrant')) &&
      asArray((st.Condition as Record<string, Json> | undefined)?.Bool?.['kms:GrantIsForAWSResource'])
        .map(String)
        .includes('true'),
  );
  return use && grants;
}

/** True when some Allow statement names `principal` (a service) for `action`. */
function allowsService(statements: Json[], principal: RegExp, action: string): boolean {
  return statements.some(
    (st) =>
      st.Effect === 'Allow' &&
      asArray((st.Principal as { Service?: unknown })?.Service).some((s) => principal.test(flattenIntrinsic(s))) &&
      actionsOf(st).some((a) => covers(a, action)),
  );
}

/**
 * A customer managed key encrypting a service-integrated resource lets that service use it on the account's
 * behalf: DynamoDB for a table, AWS Backup for a vault and Bedrock for a guardrail (through `kms:ViaService`, with
 * grants), CloudWatch Logs for a log group. Otherwise CloudFormation cannot create the resource. Sources:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
export function ServiceCanUseKey(node: CfnResource): NagRuleCompliance {
  const region = Stack.of(node).region;
  const check = (keyRef: unknown, ok: (statements: Json[]) => boolean) => {
    const statements = keyPolicyOf(node, keyRef);
    if (!statements) return NagRuleCompliance.NOT_APPLICABLE;
    return ok(statements) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  };
  const use = ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];
  if (node instanceof dynamodb.CfnTable) {
    const ref = (Stack.of(node).resolve(node.sseSpecification) as { kmsMasterKeyId?: unknown } | undefined)
      ?.kmsMasterKeyId;
    if (!ref) return NagRuleCompliance.NOT_APPLICABLE;
    return check(ref, (s) => keyUsableThrough(s, region, 'dynamodb', use));
  }
  if (node instanceof backup.CfnBackupVault) {
    return check(node.encryptionKeyArn, (s) => keyUsableThrough(s, region, 'backup', use));
  }
  if (node instanceof bedrock.CfnGuardrail) {
    // https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-kms.html
    if (!node.kmsKeyArn) return NagRuleCompliance.NOT_APPLICABLE;
    return check(node.kmsKeyArn, (s) =>
      keyUsableThrough(s, region, 'bedrock', ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']),
    );
  }
  if (node instanceof logs.CfnLogGroup) {
    // CloudWatch Logs of this region (the service principal is regional).
    const logs = new RegExp(`^logs\\.(${region}|<AWS::Region>)\\.amazonaws\\.com$`);
    return check(node.kmsKeyId, (s) =>
      s.some(
        (st) =>
          st.Effect === 'Allow' &&
          asArray((st.Principal as { Service?: unknown })?.Service).some((p) => logs.test(flattenIntrinsic(p))) &&
          ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'].every((a) => actionsOf(st).some((p) => covers(p, a))),
      ),
    );
  }
  return NagRuleCompliance.NOT_APPLICABLE;
}

/** The topic policies and subscriptions of `topic`, anywhere in the app. */
function topicFacts(topic: sns.CfnTopic) {
  const all = topic.node.root.node.findAll();
  const mine = (node: CfnResource, v: unknown) => referenced(node, v).includes(topic);
  const policies = all.filter((c): c is sns.CfnTopicPolicy => c instanceof sns.CfnTopicPolicy && mine(c, c.topics));
  const subscriptions = all.filter(
    (c): c is sns.CfnSubscription => c instanceof sns.CfnSubscription && mine(c, c.topicArn),
  );
  return { policies, subscriptions };
}

/**
 * Every SNS topic an alarm notifies can be reached: its topic policy lets `cloudwatch.amazonaws.com` publish (a
 * topic policy replaces the default one), its key lets CloudWatch encrypt, and somebody is subscribed. Sources:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html,
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
 */
export function AlarmTopicReachable(node: CfnResource): NagRuleCompliance {
  if (!(node instanceof cloudwatch.CfnAlarm) && !(node instanceof cloudwatch.CfnCompositeAlarm)) {
    return NagRuleCompliance.NOT_APPLICABLE;
  }
  const actions = [node.alarmActions, node.okActions, node.insufficientDataActions];
  const topics = [...new Set(referenced(node, actions).filter((t): t is sns.CfnTopic => t instanceof sns.CfnTopic))];
  for (const topic of topics) {
    const { policies, subscriptions } = topicFacts(topic);
    if (subscriptions.length === 0) return NagRuleCompliance.NON_COMPLIANT;
    const publish = policies.every((p) =>
      allowsService(statementsOf(Stack.of(p).resolve(p.policyDocument)), /^cloudwatch\.amazonaws\.com$/, 'sns:Publish'),
    );
    if (!publish) return NagRuleCompliance.NON_COMPLIANT;
    const key = keyPolicyOf(topic, topic.kmsMasterKeyId);
    if (
      key &&
      !['kms:Decrypt', 'kms:GenerateDataKey'].every((a) => allowsService(key, /^cloudwatch\.amazonaws\.com$/, a))
    ) {
      return NagRuleCompliance.NON_COMPLIANT;
    }
  }
  return NagRuleCompliance.COMPLIANT;
}

/** The property holding the physical name of each resource type that can be named (CloudFormation names). */
const NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::Logs::LogGroup': 'logGroupName',
  'AWS::Backup::BackupVault': 'backupVaultName',
  'AWS::DynamoDB::Table': 'tableName',
  'AWS::KMS::Alias': 'aliasName',
  'AWS::SNS::Topic': 'topicName',
  'AWS::SQS::Queue': 'queueName',
  'AWS::S3::Bucket': 'bucketName',
  'AWS::StepFunctions::StateMachine': 'stateMachineName',
  'AWS::IAM::Role': 'roleName',
  'AWS::Lambda::Function': 'functionName',
};
/** Types whose delete leaves the name taken for a while even when not retained. */
const ASYNC_DELETE = new Set([
  // DeleteStateMachine "is an asynchronous operation ... deleted only when all its executions are completed":
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_DeleteStateMachine.html
  'AWS::StepFunctions::StateMachine',
]);

/** Types whose `Ref` is an id AWS generates at creation (new with every deployment), not a name given to it. */
const GENERATED_ID_TYPES = new Set(['AWS::ApiGateway::RestApi', 'AWS::ApiGateway::Deployment', 'AWS::KMS::Key']);

/** The part of the stack id that is new with every stack creation: `Fn::Select [2, Fn::Split ['/', AWS::StackId]]`. */
function isStackUuid(v: unknown): boolean {
  const sel = (v as { 'Fn::Select'?: unknown[] } | null)?.['Fn::Select'];
  if (!Array.isArray(sel) || Number(sel[0]) !== 2) return false;
  const split = (sel[1] as { 'Fn::Split'?: unknown[] } | null)?.['Fn::Split'];
  return Array.isArray(split) && split[0] === '/' && (split[1] as { Ref?: unknown } | null)?.Ref === 'AWS::StackId';
}

/**
 * True when a resolved name has a part that is new with every deployment: the stack's UUID (the shape of
 * `deploymentUniqueSuffix`), or the generated id of a resource of the same stack (an API id), never a parameter,
 * the stack name, or another resource's given name.
 */
function uniquePerDeployment(stack: Stack, resolved: unknown): boolean {
  let unique = false;
  const visit = (v: unknown): void => {
    if (unique || v === null || typeof v !== 'object') return;
    if (isStackUuid(v)) {
      unique = true;
      return;
    }
    const o = v as Json;
    const id = typeof o.Ref === 'string' ? o.Ref : Array.isArray(o['Fn::GetAtt']) ? o['Fn::GetAtt'][0] : undefined;
    if (typeof id === 'string') {
      const target = byLogicalId(stack, id);
      if (target && GENERATED_ID_TYPES.has(target.cfnResourceType) && typeof o.Ref === 'string') unique = true;
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(o)) visit(x);
  };
  visit(resolved);
  return unique;
}

/**
 * No resource that outlives its stack (DeletionPolicy Retain, or a state machine still running executions) carries a
 * fixed physical name: the next deploy after a delete would fail with "already exists". Names must be left to
 * CloudFormation or carry a part new with every deployment. Source:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
 */
export function RetainedWithoutFixedName(node: CfnResource): NagRuleCompliance {
  const prop = NAME_PROPERTIES[node.cfnResourceType];
  if (!prop) return NagRuleCompliance.NOT_APPLICABLE;
  const policy = node.cfnOptions.deletionPolicy;
  const outlives =
    policy === CfnDeletionPolicy.RETAIN ||
    policy === CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE ||
    ASYNC_DELETE.has(node.cfnResourceType);
  if (!outlives) return NagRuleCompliance.NOT_APPLICABLE;
  const stack = Stack.of(node);
  const name = stack.resolve((node as unknown as Record<string, unknown>)[prop]);
  if (name === undefined) return NagRuleCompliance.COMPLIANT;
  return uniquePerDeployment(stack, name) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}

/** Silo tenants a region must hold: under API Gateway's 600 Regional REST APIs, which cannot be raised. */
const PROMISED_SILO_TENANTS = 500;

/**
 * Resource types with a small regional quota that the capacity model does not count (it counts REST APIs, usage
 * plans, API keys, roles, policies, rules, topics, keys and state machines), with the quota and its page.
 */
const SMALL_QUOTA_TYPES: Readonly<Record<string, { readonly quota: number; readonly source: string }>> = {
  'AWS::ApiGateway::ClientCertificate': {
    quota: 60,
    source:
      'https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html',
  },
  'AWS::WAFv2::WebACL': { quota: 100, source: 'https://docs.aws.amazon.com/waf/latest/developerguide/limits.html' },
  'AWS::Backup::BackupPlan': {
    quota: 300,
    source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/aws-backup-limits.html',
  },
  'AWS::Backup::BackupSelection': {
    quota: 10,
    source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/aws-backup-limits.html',
  },
  'AWS::Bedrock::Guardrail': { quota: 100, source: 'https://docs.aws.amazon.com/general/latest/gr/bedrock.html' },
  'AWS::EC2::VPC': { quota: 5, source: 'https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html' },
  'AWS::EC2::NatGateway': {
    quota: 5,
    source: 'https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html',
  },
  'AWS::EC2::EIP': { quota: 5, source: 'https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html' },
};

/**
 * Small-quota types the capacity model counts (synth fails when the fleet would cross the quota), with the quota
 * id: a tenant stack may create them.
 */
export const CAPACITY_COUNTED_TYPES: Readonly<Record<string, string>> = {
  'AWS::Bedrock::Guardrail': QUOTA_IDS.guardrails,
};

/** Construct metadata that marks a tenant stack (its value: the tenant id). */
const TENANT_STACK_METADATA = 'switchboard:tenant-stack';

/** Marks `stack` as a tenant's: what it creates, it creates once per tenant. */
export function markTenantStack(stack: Stack, tenantId: string): void {
  stack.node.addMetadata(TENANT_STACK_METADATA, tenantId);
}

function isTenantStack(stack: Stack): boolean {
  return stack.node.metadata.some((m) => m.type === TENANT_STACK_METADATA);
}

/**
 * No resource created once per tenant is of a type whose regional quota is below the fleet Switchboard promises
 * ({@link PROMISED_SILO_TENANTS}), unless the capacity model counts it. Sources: the quota page of each type in
 * {@link SMALL_QUOTA_TYPES}.
 */
export function PerTenantResourceWithinQuota(node: CfnResource): NagRuleCompliance {
  const small = SMALL_QUOTA_TYPES[node.cfnResourceType];
  if (!small) return NagRuleCompliance.NOT_APPLICABLE;
  if (!isTenantStack(Stack.of(node))) return NagRuleCompliance.NOT_APPLICABLE;
  if (CAPACITY_COUNTED_TYPES[node.cfnResourceType]) return NagRuleCompliance.COMPLIANT;
  return small.quota < PROMISED_SILO_TENANTS ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
}

/**
 * Largest request body a tenant may send: the longest prompt and system text any tenant may configure, every
 * character JSON-escaped (6 bytes), plus room for the other fields.
 */
const LARGEST_PROMPT_BODY_BYTES = API_LIMITS.maxBodyBytes;

/**
 * A WAF web ACL does not block a request body of the largest configured prompt whose text contains code, markup,
 * paths or URLs: managed body rules are set to count, own rules do not block on body size or content. Sources:
 * https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html,
 * https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-setting-body-inspection-limit.html
 */
export function WafAllowsLargestPrompt(node: CfnResource): NagRuleCompliance {
  if (!(node instanceof wafv2.CfnWebACL)) return NagRuleCompliance.NOT_APPLICABLE;
  const rules = Stack.of(node).resolve(node.rules);
  return rulesBlockingBody(rules, LARGEST_PROMPT_BODY_BYTES).length
    ? NagRuleCompliance.NON_COMPLIANT
    : NagRuleCompliance.COMPLIANT;
}

/** KMS refuses a key policy over 32 KB (not adjustable): https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html */
const KEY_POLICY_MAX_BYTES = 32 * 1024;

/**
 * The longest an intrinsic function's value can be once deployed: a role ARN (`arn:aws-us-gov:iam::` + account +
 * `:role/` + a path and a 64-character name) stays well under this.
 */
const INTRINSIC_WORST_CASE = 'x'.repeat(160);

/** A resolved policy with every intrinsic function replaced by its worst-case length. */
function worstCase(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(worstCase);
  if (v === null || typeof v !== 'object') return v;
  const keys = Object.keys(v);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return INTRINSIC_WORST_CASE;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, worstCase(x)]));
}

/** A key policy stays under KMS's 32 KB, every ARN counted at its longest. */
export function KeyPolicyFits(node: CfnResource): NagRuleCompliance {
  if (!(node instanceof kms.CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const size = Buffer.byteLength(JSON.stringify(worstCase(Stack.of(node).resolve(node.keyPolicy))), 'utf8');
  return size <= KEY_POLICY_MAX_BYTES ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}

/** The deploy-readiness pack. */
export class SwitchboardDeployChecks extends NagPack {
  readonly name = 'SwitchboardDeploy';

  constructor(scope?: IConstruct, props?: NagPackProps) {
    super(scope, props);
    this.packName = 'SwitchboardDeploy';
  }

  protected checkResource(node: CfnResource): void {
    if (!CfnResource.isCfnResource(node)) return;
    const rule = (rule: (n: CfnResource) => NagRuleCompliance, info: string, explanation: string) =>
      this.applyRule({ info, explanation, level: NagMessageLevel.ERROR, rule, node });
    rule(
      ServiceCanUseKey,
      'The customer managed key of this resource does not let the service that encrypts it use the key for the account.',
      'DynamoDB, AWS Backup and CloudWatch Logs use the key on the caller’s behalf; without kms:ViaService (or the logs service principal) in the key policy, CloudFormation cannot create the table, vault or log group.',
    );
    rule(
      AlarmTopicReachable,
      'An alarm notifies an SNS topic that CloudWatch cannot publish to, or that nobody is subscribed to.',
      'A topic policy replaces the default one: it must allow cloudwatch.amazonaws.com to publish, an encrypted topic’s key must let CloudWatch use it, and the topic needs a subscriber.',
    );
    rule(
      RetainedWithoutFixedName,
      'A resource that outlives its stack has a fixed physical name.',
      'Retained resources (and state machines with running executions) keep their names after a stack is deleted: the next deploy fails with "already exists". Let CloudFormation name it or add a per-deployment suffix.',
    );
    rule(
      PerTenantResourceWithinQuota,
      `A tenant stack creates a resource whose regional quota is below the ${PROMISED_SILO_TENANTS} silo tenants a region must hold.`,
      'Per-tenant resources of small-quota types stop the fleet from growing; share one per platform or count it in the capacity model.',
    );
    rule(
      WafAllowsLargestPrompt,
      `The WAF web ACL blocks request bodies of the largest configured prompt (${LARGEST_PROMPT_BODY_BYTES} bytes) or body text with code.`,
      'Tenants send prompts far above 8 KB that contain code, markup, paths and URLs as text; managed body rules must count, and own rules must not block on body size below the largest prompt.',
    );
    rule(
      KeyPolicyFits,
      `The key policy is larger than ${KEY_POLICY_MAX_BYTES} bytes.`,
      'KMS rejects key policies over 32 KB (not adjustable); every role granted key use adds a statement.',
    );
  }
}
