import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { keyAdministrationStatement, logsServiceStatement } from '../key-policies';

/**
 * The platform's customer-managed key (ops topic, WAF logs, backup vault): rotation on, retained. Like the
 * tenant keys, the account root administers it but cannot use it; users are named in the key policy.
 */
export class PlatformKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Switchboard platform key (ops alerts, WAF logs, backup vault)',
      alias: 'alias/switchboard/platform',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
      policy: new iam.PolicyDocument({ statements: [keyAdministrationStatement(), logsServiceStatement(this)] }),
    });
  }
}
