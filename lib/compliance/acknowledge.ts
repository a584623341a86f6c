/**
 * The one way Switchboard acknowledges a compliance finding: scoped to one construct, with a reason a
 * security reviewer can accept, and recorded so tests can prove every acknowledgement is used.
 */
import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** A made acknowledgement. */
export interface Acknowledgement {
  readonly constructPath: string;
  readonly ruleId: string;
  readonly reason: string;
}

const MADE: Acknowledgement[] = [];

/** Packs whose rule ids may be acknowledged, by prefix. */
const RULE_ID =
  /^(AwsSolutions|HIPAA\.Security|NIST\.800\.53\.R5|PCI\.DSS\.321|Serverless|Switchboard|SwitchboardDeploy)-[A-Za-z0-9]+(\[[^\]]+\])?$/;

/**
 * Acknowledges `ruleId` on `scope` (and only its subtree). Ids are unprefixed (`AwsSolutions-IAM5[Resource::*]`):
 * cdk-nag's `validateScope` ignores the plugin-prefixed form. Malformed ids throw instead of silently
 * matching nothing.
 */
export function acknowledge(scope: IConstruct, ruleId: string, reason: string): void {
  if (!RULE_ID.test(ruleId)) throw new Error(`Malformed rule id for acknowledgement: "${ruleId}"`);
  if (reason.trim().length < 40) {
    throw new Error(`Acknowledgement of ${ruleId} on ${scope.node.path} needs a reason a reviewer can check`);
  }
  Validations.of(scope).acknowledge({ id: ruleId, reason });
  MADE.push({ constructPath: scope.node.path, ruleId, reason });
}

/** The packs whose rules share names (HIPAA, NIST 800-53 R5, PCI DSS). */
const REGULATED_PACKS = ['HIPAA.Security', 'NIST.800.53.R5', 'PCI.DSS.321'] as const;

/** Acknowledges the same rule name in each of `packs`. */
export function acknowledgeInPacks(
  scope: IConstruct,
  packs: readonly (typeof REGULATED_PACKS)[number][],
  ruleName: string,
  reason: string,
): void {
  for (const pack of packs) acknowledge(scope, `${pack}-${ruleName}`, reason);
}

/** Acknowledges the same rule name in each of the HIPAA, NIST 800-53 R5 and PCI DSS packs. */
export function acknowledgeInRegulatedPacks(scope: IConstruct, ruleName: string, reason: string): void {
  acknowledgeInPacks(scope, REGULATED_PACKS, ruleName, reason);
}

/** Every acknowledgement made in this process (for tests and the compliance report). */
export function madeAcknowledgements(): readonly Acknowledgement[] {
  return MADE;
}

/**
 * An ARN prefix as cdk-nag prints it in finding ids: known values literally, unresolved ones as
 * `<AWS::Partition>`, `<AWS::Region>`, `<AWS::AccountId>`. Acknowledgement ids built with it follow the
 * stack's environment.
 */
export function nagArnPrefix(scope: IConstruct, service: string): string {
  const stack = Stack.of(scope);
  const show = (v: string, pseudo: string) => (Token.isUnresolved(v) ? `<${pseudo}>` : v);
  return `arn:${show(stack.partition, 'AWS::Partition')}:${service}:${show(stack.region, 'AWS::Region')}:${show(stack.account, 'AWS::AccountId')}`;
}
