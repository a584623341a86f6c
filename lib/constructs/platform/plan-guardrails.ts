import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PLANS, type Plan } from '../../../lambda/shared/tenant-vocabulary';
import { PLAN_GUARDRAILS } from '../../config/guardrail-policy';
import { type IGuardrail, SwitchboardGuardrail } from '../guardrail/switchboard-guardrail';
import { keyAdministrationStatement, serviceIntegrationStatements } from '../key-policies';

/** Props of {@link PlanGuardrails}. */
export interface PlanGuardrailsProps {
  /**
   * IAM roles (name with optional path) that may administer the guardrail key besides the CDK deploy role and the
   * root user.
   * @default - none
   */
  readonly adminRoles?: readonly string[];
}

/** Guardrail name of a plan's shared guardrail. */
export function planGuardrailName(plan: Plan): string {
  return `sb-plan-${plan}`;
}

/**
 * The shared guardrail of each plan, and the key every Switchboard guardrail (the plans' and the tenants' own) is
 * encrypted with. One guardrail per plan, not per tenant: guardrails are an account quota (the capacity model counts
 * them), so only a tenant whose file customizes its guardrail gets one of its own.
 *
 * The key: rotation on, retained; named administrators manage it; the account may use it only through Bedrock
 * (`kms:ViaService`, grants only for AWS resources), which is how CloudFormation creates the guardrails and how an
 * inference function's model calls read them (each function's IAM policy allows `kms:Decrypt` through Bedrock).
 * https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails-permissions-kms.html
 */
export class PlanGuardrails extends Construct {
  readonly key: kms.IKey;
  private readonly byPlan: Record<Plan, SwitchboardGuardrail>;

  constructor(scope: Construct, id: string, props: PlanGuardrailsProps = {}) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: 'Switchboard guardrails (the plans’ shared guardrails and tenants’ own)',
      alias: 'alias/switchboard/guardrails',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
      policy: new iam.PolicyDocument({
        statements: [
          keyAdministrationStatement(this, props.adminRoles),
          ...serviceIntegrationStatements(this, 'bedrock'),
        ],
      }),
    });
    this.key = key;
    this.byPlan = Object.fromEntries(
      PLANS.map((plan) => [
        plan,
        new SwitchboardGuardrail(this, `Plan${plan[0]!.toUpperCase()}${plan.slice(1)}`, {
          name: planGuardrailName(plan),
          owner: `plan ${plan}`,
          policy: PLAN_GUARDRAILS[plan],
          key,
        }),
      ]),
    ) as Record<Plan, SwitchboardGuardrail>;
  }

  /** The shared guardrail of `plan`. */
  forPlan(plan: Plan): IGuardrail {
    return this.byPlan[plan];
  }
}
