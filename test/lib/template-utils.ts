/**
 * Small readers for synthesized CloudFormation templates, shared by the tests under test/lib. They turn
 * intrinsic functions into readable strings so assertions can compare ARNs with what lambda/shared computes.
 */
import { App } from 'aws-cdk-lib';
import {
  asArray,
  type CfnResourceJson,
  flatten,
  type StatementJson,
  statementsOf,
  type TemplateLike,
} from '../../lib/compliance/template-json';

export {
  actionCovers,
  asArray,
  type CfnResourceJson,
  flatten,
  type StatementJson,
  statementsOf,
  type TemplateLike,
} from '../../lib/compliance/template-json';

/** Logical ids and resources of one type. */
export function resourcesOfType(t: TemplateLike, type: string): Array<[string, CfnResourceJson]> {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === type);
}

/** The single resource of `type`; fails the test when there are none or several. */
export function onlyResource(t: TemplateLike, type: string): [string, CfnResourceJson] {
  const found = resourcesOfType(t, type);
  if (found.length !== 1)
    throw new Error(`expected one ${type}, found ${found.map(([id]) => id).join(', ') || 'none'}`);
  return found[0]!;
}

/** Properties of a resource (never undefined). */
export function props(r: CfnResourceJson): Record<string, unknown> {
  return r.Properties ?? {};
}

/** The `Key`→`Value` map of a resource's `Tags` (list form). */
export function tagsOf(r: CfnResourceJson): Record<string, string> {
  const tags = props(r).Tags;
  if (!Array.isArray(tags)) return {};
  return Object.fromEntries((tags as Array<{ Key: string; Value: string }>).map((t) => [t.Key, t.Value]));
}

/** The export name of the output whose value is `Fn::GetAtt [logicalId, attr]` or `Ref logicalId`. */
export function exportNameOf(t: TemplateLike, logicalId: string, attr?: string): string | undefined {
  for (const o of Object.values(t.Outputs ?? {})) {
    const v = flatten(o.Value);
    if (v === (attr ? `<${logicalId}.${attr}>` : `<${logicalId}>`)) return o.Export?.Name;
  }
  return undefined;
}

/**
 * How a consumer stack reads `logicalId` (or its `attr`) of the producer stack `stackName` through a weak
 * cross-stack reference (`Fn::GetStackOutput` of the producer's output), flattened; undefined when the producer
 * has no such output.
 */
export function outputRefOf(
  producer: TemplateLike,
  stackName: string,
  logicalId: string,
  attr?: string,
): string | undefined {
  for (const [outputId, o] of Object.entries(producer.Outputs ?? {})) {
    const v = flatten(o.Value);
    if (v === (attr ? `<${logicalId}.${attr}>` : `<${logicalId}>`)) return `<Output:${stackName}.${outputId}>`;
  }
  return undefined;
}

/**
 * Every statement a role of `consumer` holds through customer-managed policies: its own (`Roles` naming it) and
 * those of `producer` (stack `producerName`) it attaches through a cross-stack reference (`ManagedPolicyArns`).
 */
export function roleStatements(
  consumer: TemplateLike,
  roleLogicalId: string,
  producer: TemplateLike,
  producerName: string,
): StatementJson[] {
  const own = resourcesOfType(consumer, 'AWS::IAM::ManagedPolicy').filter(([, p]) =>
    asArray(props(p).Roles as unknown[]).some((r) => flatten(r) === `<${roleLogicalId}>`),
  );
  const attached = asArray(props(consumer.Resources[roleLogicalId]!).ManagedPolicyArns as unknown[]).map(flatten);
  const shared = resourcesOfType(producer, 'AWS::IAM::ManagedPolicy').filter(([id]) =>
    attached.includes(outputRefOf(producer, producerName, id) ?? '-'),
  );
  if (shared.length !== attached.length) throw new Error(`${roleLogicalId}: not every attached policy was found`);
  return [...own, ...shared].flatMap(([, p]) => statementsOf(props(p).PolicyDocument));
}

/** An App for construct tests: CDK's built-in template validation is off (slow, and not what these tests check). */
export function testApp(): App {
  return new App({ builtinCloudFormationValidation: false });
}

/** The path of an API Gateway resource (`v1/reviews/{reviewId}`), from a method's `ResourceId`. */
export function resourcePath(t: TemplateLike, resourceId: unknown): string {
  const parts: string[] = [];
  let cur = resourceId as { Ref?: string } | undefined;
  for (let depth = 0; depth < 64 && typeof cur?.Ref === 'string'; depth++) {
    const r = t.Resources[cur.Ref];
    if (r?.Type !== 'AWS::ApiGateway::Resource') break;
    parts.push(String(r.Properties?.PathPart));
    cur = r.Properties?.ParentId as { Ref?: string } | undefined;
  }
  return parts.reverse().join('/');
}
