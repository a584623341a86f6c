import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * A principal for `Role.assumedBy` whose trust policy is exactly the statements given: for trusts CDK's principal
 * helpers cannot express, such as several statements with different conditions, or actions besides
 * `sts:AssumeRole` (`sts:SetSourceIdentity`). `principal` is what grants to the role's trust see (its account).
 */
export class TrustStatementsPrincipal extends iam.PrincipalBase {
  readonly policyFragment: iam.PrincipalPolicyFragment;
  private readonly statements: readonly iam.PolicyStatement[];

  constructor(principal: iam.IPrincipal, statements: readonly iam.PolicyStatement[]) {
    super();
    if (statements.length === 0) throw new Error('TrustStatementsPrincipal: at least one trust statement is needed');
    this.policyFragment = principal.policyFragment;
    this.statements = statements;
  }

  override addToAssumeRolePolicy(document: iam.PolicyDocument): void {
    document.addStatements(...this.statements);
  }

  override dedupeString(): string | undefined {
    return undefined;
  }
}
