/**
 * Reviewer subscriptions on Amazon SNS: an e-mail subscription to a pool cell's reviewers topic whose filter policy
 * (on message attributes) lets through only its tenant's reviews. `ReturnSubscriptionArn` gives the ARN while the
 * subscription still waits for the recipient's confirmation, so it can be removed later either way.
 * https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
 * https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html
 */
import { type SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import type { ReviewerSubscriptionsPort } from '../core/ports';
import { reviewerFilterPolicy } from '../core/reviewer-subscriptions';

export function makeSnsReviewerSubscriptions(sns: SNSClient): ReviewerSubscriptionsPort {
  return {
    async subscribe(topicArn, tenantId, email) {
      const res = await sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'email',
          Endpoint: email,
          ReturnSubscriptionArn: true,
          Attributes: {
            FilterPolicy: JSON.stringify(reviewerFilterPolicy(tenantId)),
            FilterPolicyScope: 'MessageAttributes',
          },
        }),
      );
      if (!res.SubscriptionArn) throw new Error('SNS returned no subscription ARN');
      return res.SubscriptionArn;
    },
    async unsubscribe(subscriptionArn) {
      await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
    },
  };
}
