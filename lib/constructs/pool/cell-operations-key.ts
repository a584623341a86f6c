import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { keyAdministrationStatement, logsServiceStatement } from '../key-policies';

/** Props of {@link CellOperationsKey}. */
export interface CellOperationsKeyProps {
  /** Cell name (`pool-1`): alias and description. */
  readonly cellId: string;
  /**
   * IAM roles (name with optional path) that may administer the key besides the CDK deploy role and the root
   * user.
   * @default - none
   */
  readonly adminRoles?: readonly string[];
}

/**
 * A pool cell's operations key: the cell functions' log groups and dead-letter topics, never tenant data. The
 * cell's data key (the pooled ledger's, used under each tenant's encryption context) stays out of reach of the
 * functions' own roles: only the tenant-access role uses it. Named administrators manage this key; CloudWatch
 * Logs of the account and region may use it for log groups; the functions' roles may use it only through SNS
 * (Lambda publishes a failed asynchronous event to the dead-letter topic with the function's role).
 */
export class CellOperationsKey extends Construct {
  readonly key: kms.IKey;
  private readonly impl: kms.Key;
  private publishers = 0;

  constructor(scope: Construct, id: string, props: CellOperationsKeyProps) {
    super(scope, id);
    this.impl = new kms.Key(this, 'Key', {
      description: `Switchboard ${props.cellId}: function logs and dead letters (no tenant data)`,
      alias: `alias/switchboard/cell/${props.cellId}/operations`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(30),
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [keyAdministrationStatement(this, props.adminRoles), logsServiceStatement(this)],
      }),
    });
    this.key = this.impl;
  }

  /**
   * Lets `grantee` (a cell function's role, the review state machine's) use the key through SNS only: what
   * publishing to a topic encrypted with it needs (a dead letter, a reviewer notification). Key policy and IAM policy
   * both say so.
   */
  grantPublishThroughSns(grantee: iam.IGrantable): iam.Grant {
    const actions = ['kms:GenerateDataKey', 'kms:Decrypt'];
    const conditions = { StringEquals: { 'kms:ViaService': `sns.${Stack.of(this).region}.amazonaws.com` } };
    this.publishers += 1;
    this.impl.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `PublishThroughSns${this.publishers}`,
        principals: [grantee.grantPrincipal],
        actions,
        resources: ['*'],
        conditions,
      }),
    );
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.impl.keyArn], conditions });
  }
}
