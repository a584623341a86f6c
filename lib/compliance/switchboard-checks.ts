/**
 * Switchboard's own multi-tenant rules, as a cdk-nag pack, for what the standard packs do not check:
 * tenant data is retained, tenant keys are not usable by the whole account, and model access is scoped
 * to named models.
 */
import { CfnResource, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { NagMessageLevel, NagPack, type NagPackProps, NagRuleCompliance } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** Key actions that let a principal use key material (directly or by granting itself use). */
const CRYPTO_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:CreateGrant'];

/** True when an IAM action pattern (`*`, `kms:*`, `kms:De*`) covers any of the key-use actions. */
function coversKeyUse(action: string): boolean {
  const re = new RegExp(
    `^${action
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return CRYPTO_ACTIONS.some((a) => re.test(a));
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

/** DynamoDB tables and KMS keys are retained when their stack is deleted (tenant data outlives a stack). */
export function RetainTenantData(node: CfnResource): NagRuleCompliance {
  if (!(node instanceof dynamodb.CfnTable) && !(node instanceof kms.CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const retained = node.cfnOptions.deletionPolicy === 'Retain' && node.cfnOptions.updateReplacePolicy === 'Retain';
  return retained ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
}

/** A key policy gives cryptographic use only to named principals, never to the whole account (root). */
export function KeyNotUsableByAccount(node: CfnResource): NagRuleCompliance {
  if (!(node instanceof kms.CfnKey)) return NagRuleCompliance.NOT_APPLICABLE;
  const policy = Stack.of(node).resolve(node.keyPolicy);
  for (const st of statementsOf(policy)) {
    if (st.Effect !== 'Allow') continue;
    if (isAccountWide(st.Principal) && asArray(st.Action).some((a) => coversKeyUse(String(a)))) {
      return NagRuleCompliance.NON_COMPLIANT;
    }
  }
  return NagRuleCompliance.COMPLIANT;
}

/** Bedrock invoke permissions name model or inference-profile ARNs, never a wildcard. */
export function BedrockScopedToModels(node: CfnResource): NagRuleCompliance {
  let docs: unknown[] = [];
  if (node instanceof iam.CfnManagedPolicy) docs = [node.policyDocument];
  else if (node instanceof iam.CfnPolicy) docs = [node.policyDocument];
  else if (node instanceof iam.CfnRole)
    docs = asArray(node.policies).map((p) => (p as { policyDocument: unknown }).policyDocument);
  else return NagRuleCompliance.NOT_APPLICABLE;
  const stack = Stack.of(node);
  for (const doc of docs) {
    for (const st of statementsOf(stack.resolve(doc))) {
      const actions = asArray(st.Action).map(String);
      if (!actions.some((a) => a.toLowerCase().startsWith('bedrock:') || a === '*')) continue;
      for (const r of asArray(st.Resource)) {
        const text = typeof r === 'string' ? r : JSON.stringify(r);
        if (!/(foundation-model|inference-profile)\/[^*]+$/.test(text.replace(/"\]\]\}$/, ''))) {
          return NagRuleCompliance.NON_COMPLIANT;
        }
      }
    }
  }
  return NagRuleCompliance.COMPLIANT;
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
        'Deleting a tenant stack must never delete the ledger or make it undecryptable; data removal is a separate, deliberate process.',
      level: NagMessageLevel.ERROR,
      rule: RetainTenantData,
      node,
    });
    this.applyRule({
      info: 'The KMS key policy lets the whole account (root) use the key for cryptography.',
      explanation:
        'A tenant key must be usable only by that tenant’s roles; root keeps administration but no Encrypt/Decrypt, so another tenant’s role cannot be granted use by IAM alone.',
      level: NagMessageLevel.ERROR,
      rule: KeyNotUsableByAccount,
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
  }
}
