import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Props of {@link ManagedPolicyRole}. */
export interface ManagedPolicyRoleProps {
  /** Who assumes the role. */
  readonly assumedBy: iam.IPrincipal;
  /** What the role is for (IAM description). */
  readonly description: string;
  /**
   * Shared customer-managed policies to attach as well (e.g. the platform's runtime policy).
   * @default - none
   */
  readonly sharedPolicies?: readonly iam.IManagedPolicy[];
}

/**
 * An IAM role whose permissions live in one customer-managed policy of its own instead of inline policies
 * (which HIPAA, NIST and PCI reject) or AWS managed policies (which AwsSolutions rejects).
 *
 * It is an `IGrantable`: grants made to it (`Grant.addToPrincipal`) land in its managed policy. Hand
 * `role.withoutPolicyUpdates()` ({@link boundRole}) to L2 constructs, so they cannot add inline policies;
 * every permission is then explicit and covered by template tests.
 */
export class ManagedPolicyRole extends Construct implements iam.IGrantable {
  /** The role. */
  readonly role: iam.Role;
  /** The role's own policy. */
  readonly policy: iam.ManagedPolicy;
  /** The role as L2 constructs should see it: they cannot add statements to it. */
  readonly boundRole: iam.IRole;
  readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: ManagedPolicyRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', { assumedBy: props.assumedBy, description: props.description });
    for (const p of props.sharedPolicies ?? []) this.role.addManagedPolicy(p);
    this.policy = new iam.ManagedPolicy(this, 'Policy', { roles: [this.role], description: props.description });
    this.boundRole = this.role.withoutPolicyUpdates();
    const policy = this.policy;
    const role = this.role;
    // A principal that is the role for everything except where grants write: the managed policy.
    this.grantPrincipal = new (class extends iam.PrincipalBase {
      readonly assumeRoleAction = role.assumeRoleAction;
      readonly principalAccount = role.principalAccount;
      get policyFragment() {
        return role.policyFragment;
      }
      addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
        policy.addStatements(statement);
        return { statementAdded: true, policyDependable: policy };
      }
      dedupeString(): string | undefined {
        return `ManagedPolicyRole:${role.node.path}`;
      }
      toString() {
        return role.toString();
      }
    })();
  }

  /** Adds a statement to the role's managed policy. */
  addStatements(...statements: iam.PolicyStatement[]): void {
    this.policy.addStatements(...statements);
  }
}
