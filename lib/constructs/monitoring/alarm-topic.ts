import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { acknowledge } from '../../compliance/acknowledge';

/** Props of {@link AlarmTopic}. */
export interface AlarmTopicProps {
  /** What the topic is for (its display name). */
  readonly displayName: string;
  /**
   * Key encrypting the topic. Its owner lets CloudWatch alarms of this account use it (`cloudWatchAlarmsStatement`
   * in its key policy: `TenantData.allowCloudWatchAlarms`, the platform key's policy); this construct does not
   * edit a key policy it does not own. The deploy-readiness check `AlarmTopicReachable` finds a key that does not.
   */
  readonly key: kms.IKey;
  /** Who is told: one e-mail subscription each. At least one: an alarm nobody receives is not an alarm. */
  readonly emails: readonly string[];
}

/**
 * An SNS topic that CloudWatch alarms can actually reach: KMS-encrypted, TLS only, a topic policy that lets
 * `cloudwatch.amazonaws.com` publish for alarms of this account (a topic policy replaces the default one, so
 * without this statement every alarm action fails), and at least one subscriber. The key's owner lets CloudWatch
 * use the key. Retained: deleting a stack must not silence the history of who was told.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    if (props.emails.length === 0) {
      throw new Error(`${this.node.path}: emails: an alarm topic needs at least one subscriber`);
    }
    const stack = Stack.of(this);
    const topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName,
      masterKey: props.key,
      enforceSSL: true,
    });
    topic.applyRemovalPolicy(RemovalPolicy.RETAIN);
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccountPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
        },
      }),
    );
    for (const email of props.emails) topic.addSubscription(new subs.EmailSubscription(email));
    acknowledge(
      topic,
      'Serverless-SNSRedrivePolicy',
      'Alarm e-mail subscriptions: a dead-letter queue would hold undelivered alarm e-mails nobody reads; the alarm itself stays in ALARM and is visible on the dashboards and in the alarm list until it clears.',
    );
    this.topic = topic;
  }
}
