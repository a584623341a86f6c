import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { cloudWatchAlarmsStatement } from '../key-policies';

/** Props of {@link OpsAlerts}. */
export interface OpsAlertsProps {
  /** Key encrypting the topic. */
  readonly key: kms.IKey;
  /**
   * E-mail addresses subscribed to the topic.
   * @default - none; subscribe on-call tooling after deploy
   */
  readonly emails?: readonly string[];
}

/** The platform team's alarm topic (KMS-encrypted, TLS-only), the action of every platform alarm. */
export class OpsAlerts extends Construct {
  readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: OpsAlertsProps) {
    super(scope, id);
    const topic = new sns.Topic(this, 'Topic', {
      displayName: 'Switchboard platform operations alerts',
      masterKey: props.key,
      enforceSSL: true,
    });
    topic.applyRemovalPolicy(RemovalPolicy.RETAIN);
    // CloudWatch alarms publish to the encrypted topic through the key.
    props.key.addToResourcePolicy(cloudWatchAlarmsStatement());
    this.topic = topic;
  }
}
