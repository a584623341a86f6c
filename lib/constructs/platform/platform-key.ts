import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  cloudWatchAlarmsStatement,
  keyAdministrationStatement,
  logsServiceStatement,
  serviceIntegrationStatements,
} from '../key-policies';

/** Props of {@link PlatformKey}. */
export interface PlatformKeyProps {
  /**
   * IAM roles (name with optional path) that may administer the key besides the CDK deploy role and the root
   * user.
   * @default - none
   */
  readonly adminRoles?: readonly string[];
}

/**
 * The platform's customer-managed key (ops topic, WAF logs, backup vault): rotation on, retained. Named
 * administrators manage it; the account may use it only through AWS Backup (the vault) and CloudWatch Logs
 * (the WAF log group); CloudWatch alarms of this account may use it to publish to the ops topic it encrypts;
 * other users are named in the key policy.
 */
export class PlatformKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformKeyProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Switchboard platform key (ops alerts, WAF logs, backup vault)',
      alias: 'alias/switchboard/platform',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
      policy: new iam.PolicyDocument({
        statements: [
          keyAdministrationStatement(this, props.adminRoles),
          logsServiceStatement(this),
          ...serviceIntegrationStatements(this, 'backup'),
          cloudWatchAlarmsStatement(this),
        ],
      }),
    });
  }
}
