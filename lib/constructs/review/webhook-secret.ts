import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { GENERATED_SECRET, webhookSecretNamePrefix } from '../../../lambda/shared/webhook-signing';
import { acknowledge, acknowledgeInPacks } from '../../compliance/acknowledge';
import { cloudFormationExecutionRoleArn, roleArns } from '../key-policies';
import type { TenantData } from '../tenant-data/tenant-data';
import { deploymentUniqueSuffix } from '../unique-names';

/** Props of {@link WebhookSecret}. */
export interface WebhookSecretProps {
  readonly tenantId: string;
  /** The tenant's data plane: the secret is encrypted with its key, whose policy names who may use it for this. */
  readonly data: TenantData;
  /** IAM role names (optional path) that may set the URL and read or rotate the signing key. */
  readonly operatorRoles: readonly string[];
}

/** What changes a secret's value. */
const VALUE_WRITES = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:RotateSecret',
];
/** What changes who may read or write it. */
const POLICY_WRITES = ['secretsmanager:PutResourcePolicy', 'secretsmanager:DeleteResourcePolicy'];

/**
 * A tenant's webhook secret: `{"url": "", "signingKey": "<64 generated letters and digits>"}` encrypted with the
 * tenant key. The URL is not in the template: operators set it after deploying (`npm run webhook:set`, which
 * keeps the key), so neither the template nor a function's environment holds it.
 *
 * Who may do what, enforced twice (the secret's resource policy denies everyone else; the tenant key policy lets
 * only these principals use the key through Secrets Manager, for this tenant's webhook secrets):
 * - read the value: the function that delivers ({@link allowDelivery}) and the webhook operators;
 * - change the value: the webhook operators, and CloudFormation (its bootstrap execution role) for the
 *   resource itself;
 * - change the resource policy: CloudFormation only.
 */
export class WebhookSecret extends Construct {
  readonly secretArn: string;
  private readonly resource: secretsmanager.CfnSecret;
  private readonly props: { tenantId: string; data: TenantData; operators: string[]; cfn: string };
  private delivered = false;

  constructor(scope: Construct, id: string, props: WebhookSecretProps) {
    super(scope, id);
    const key: kms.IKey = props.data.key;
    // A name a person (and `npm run webhook:*`) can find; it ends in a suffix new with every stack, so a secret
    // still in its recovery window after a stack was deleted never blocks the next one.
    this.resource = new secretsmanager.CfnSecret(this, 'Resource', {
      name: `${webhookSecretNamePrefix(props.tenantId)}${deploymentUniqueSuffix()}`,
      description: `Switchboard ${props.tenantId}: review webhook URL and signing key (npm run webhook:set / webhook:rotate / webhook:key)`,
      kmsKeyId: key.keyArn,
      generateSecretString: {
        secretStringTemplate: GENERATED_SECRET.template,
        generateStringKey: GENERATED_SECRET.key,
        passwordLength: GENERATED_SECRET.length,
        excludePunctuation: true,
        includeSpace: false,
        requireEachIncludedType: true,
      },
    });
    this.secretArn = this.resource.ref;
    this.props = {
      tenantId: props.tenantId,
      data: props.data,
      operators: roleArns(this, props.operatorRoles),
      cfn: cloudFormationExecutionRoleArn(this),
    };
    acknowledge(
      this.resource,
      'AwsSolutions-SMG4',
      'The secret holds the HMAC key the tenant’s receiver verifies deliveries with. Automatic rotation would change it without the receiver knowing, and every delivery would then fail verification; it is rotated on demand with npm run webhook:rotate, which keeps signing with the previous key too for an overlap (24 h by default) so the receiver can switch without losing a delivery. Only the review steps role and the named webhook operators can read it (resource policy and key policy).',
    );
    acknowledgeInPacks(
      this.resource,
      // PCI DSS 3.2.1 has no rotation rule for secrets.
      ['HIPAA.Security', 'NIST.800.53.R5'],
      'SecretsManagerRotationEnabled',
      'The secret holds the HMAC key the tenant’s receiver verifies deliveries with; automatic rotation would break verification at the receiver without notice. It is rotated on demand (npm run webhook:rotate) with an overlap during which both keys sign, and only the review steps role and the named webhook operators can read it.',
    );
  }

  /**
   * Lets `fn` read the secret to deliver webhooks (IAM: `secretsmanager:GetSecretValue` on this secret) and
   * writes the resource policy and key policy that keep everyone else but the operators out. Once per secret.
   */
  allowDelivery(fn: { addStatements(...s: iam.PolicyStatement[]): void; readonly roleArn: string }): void {
    if (this.delivered) throw new Error(`${this.node.path}: allowDelivery was already called`);
    this.delivered = true;
    const { operators, cfn, data, tenantId } = this.props;
    fn.addStatements(
      new iam.PolicyStatement({
        sid: 'ReadWebhookSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secretArn],
      }),
    );
    const readers = [fn.roleArn, ...operators];
    const writers = [cfn, ...operators];
    const denyUnless = (sid: string, actions: string[], allowed: string[]) =>
      new iam.PolicyStatement({
        sid,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions,
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': allowed } },
      });
    new secretsmanager.CfnResourcePolicy(this, 'Policy', {
      secretId: this.secretArn,
      blockPublicPolicy: true,
      resourcePolicy: new iam.PolicyDocument({
        statements: [
          denyUnless('OnlyDeliveryAndOperatorsRead', ['secretsmanager:GetSecretValue'], readers),
          denyUnless('OnlyOperatorsAndCloudFormationWrite', VALUE_WRITES, writers),
          denyUnless('OnlyCloudFormationChangesThisPolicy', POLICY_WRITES, [cfn]),
        ],
      }).toJSON(),
    });
    const stack = Stack.of(this);
    data.allowSecretsManagerUse(
      'WebhookSecretThroughSecretsManager',
      [...new Set([...readers, ...writers])],
      `arn:${stack.partition}:secretsmanager:${stack.region}:${stack.account}:secret:${webhookSecretNamePrefix(tenantId)}*`,
    );
  }
}
