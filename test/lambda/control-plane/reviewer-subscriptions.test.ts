/**
 * Pooled tenants' reviewer e-mails on their cell's reviewers topic: subscribed at onboarding with a filter policy on
 * the tenant, changed with the tenant's escalation, removed when review is turned off and at offboarding; an SNS
 * failure never fails the call, is reported, and the next change retries it. The SNS adapter's requests are checked
 * on a recording client (an adapter unit test).
 */

import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { SNSClient } from '@aws-sdk/client-sns';
import { makeCognitoReviewerGroups } from '../../../lambda/control-plane/adapters/cognito-reviewer-groups';
import { makeSnsReviewerSubscriptions } from '../../../lambda/control-plane/adapters/sns-reviewer-subscriptions';
import type { ReviewerGroupsPort, ReviewerSubscriptionsPort } from '../../../lambda/control-plane/core/ports';
import { pooled, type RegistryHarness, registryServer } from './registry-harness';

const TOPIC = 'arn:aws:sns:us-east-1:111111111111:switchboard-pool-1-reviewers';
const server = registryServer([{ id: 'pool-1', capacity: 100, reviewersTopicArn: TOPIC }]);
beforeAll(() => server.start());
afterAll(() => server.stop());

/** A reviewers topic in memory: its subscriptions, and a switch that makes SNS fail. */
class Topic implements ReviewerSubscriptionsPort {
  readonly subs = new Map<string, { topicArn: string; tenantId: string; email: string }>();
  failing = false;
  private n = 0;
  async subscribe(topicArn: string, tenantId: string, email: string) {
    if (this.failing) throw Object.assign(new Error('SNS down'), { name: 'InternalErrorException' });
    const arn = `${topicArn}:sub-${++this.n}`;
    this.subs.set(arn, { topicArn, tenantId, email });
    return arn;
  }
  async unsubscribe(arn: string) {
    if (this.failing) throw Object.assign(new Error('SNS down'), { name: 'InternalErrorException' });
    this.subs.delete(arn);
  }
  emailsOf(tenantId: string) {
    return [...this.subs.values()]
      .filter((s) => s.tenantId === tenantId)
      .map((s) => s.email)
      .sort();
  }
}

/** The reviewer user pool's groups in memory (tenant ids). */
class Groups implements ReviewerGroupsPort {
  readonly tenants = new Set<string>();
  failing = false;
  async create(tenantId: string) {
    if (this.failing) throw Object.assign(new Error('Cognito down'), { name: 'InternalErrorException' });
    if (this.tenants.has(tenantId)) return 'exists' as const;
    this.tenants.add(tenantId);
    return 'created' as const;
  }
  async remove(tenantId: string) {
    return this.tenants.delete(tenantId) ? ('removed' as const) : ('absent' as const);
  }
}

let h: RegistryHarness;
let topic: Topic;
let groups: Groups;
beforeEach(async () => {
  topic = new Topic();
  groups = new Groups();
  h = await server.harness(undefined, { reviewerSubscriptions: topic, reviewerGroups: groups });
});

const withReview = (id: string, emails: string[]) =>
  pooled(id, { escalation: { reviewThreshold: 0.3, reviewerEmails: emails } });

describe("pooled tenants' reviewer subscriptions", () => {
  it('onboarding subscribes each reviewer e-mail to the cell topic, filtered to the tenant; the answer says so', async () => {
    const res = await h.call({
      method: 'POST',
      path: '/v1/tenants',
      body: withReview('rev-co', ['a@rev.example', 'b@rev.example']),
    });
    expect(res.status).toBe(201);
    expect(res.body.reviewerNotifications).toEqual({
      subscribed: ['a@rev.example', 'b@rev.example'],
      unsubscribed: [],
      failed: [],
      group: 'created',
    });
    expect(topic.emailsOf('rev-co')).toEqual(['a@rev.example', 'b@rev.example']);
    expect(res.body.tenant.reviewerSubscriptions.map((s: { email: string }) => s.email)).toEqual([
      'a@rev.example',
      'b@rev.example',
    ]);
    // A tenant without human review subscribes nobody.
    const quiet = await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('quiet-co') });
    expect(quiet.status).toBe(201);
    expect(quiet.body.reviewerNotifications).toBeUndefined();
    expect(topic.emailsOf('quiet-co')).toEqual([]);
  });

  it('a change of reviewers swaps exactly the changed e-mails; review turned off or offboarding removes them all', async () => {
    await h.call({
      method: 'POST',
      path: '/v1/tenants',
      body: withReview('swap-co', ['a@swap.example', 'b@swap.example']),
    });
    const changed = await h.call({
      method: 'PATCH',
      path: '/v1/tenants/swap-co',
      body: { escalation: { reviewThreshold: 0.3, reviewerEmails: ['b@swap.example', 'c@swap.example'] } },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.reviewerNotifications).toEqual({
      subscribed: ['c@swap.example'],
      unsubscribed: ['a@swap.example'],
      failed: [],
    });
    expect(topic.emailsOf('swap-co')).toEqual(['b@swap.example', 'c@swap.example']);
    const off = await h.call({
      method: 'PATCH',
      path: '/v1/tenants/swap-co',
      body: { escalation: { reviewThreshold: 0, reviewerEmails: ['b@swap.example'] } },
    });
    expect(off.body.reviewerNotifications.unsubscribed.sort()).toEqual(['b@swap.example', 'c@swap.example']);
    expect(topic.emailsOf('swap-co')).toEqual([]);

    await h.call({ method: 'POST', path: '/v1/tenants', body: withReview('gone-co', ['a@gone.example']) });
    expect(topic.emailsOf('gone-co')).toEqual(['a@gone.example']);
    expect((await h.call({ method: 'DELETE', path: '/v1/tenants/gone-co' })).status).toBe(200);
    expect(topic.emailsOf('gone-co')).toEqual([]);
    // Other tenants' subscriptions are untouched throughout.
    expect(topic.subs.size).toBe(0);
  });

  it('SNS down: onboarding still answers 201 with the failure named; the next change subscribes', async () => {
    topic.failing = true;
    const res = await h.call({ method: 'POST', path: '/v1/tenants', body: withReview('down-co', ['a@down.example']) });
    expect(res.status).toBe(201);
    expect(res.body.reviewerNotifications).toEqual({
      subscribed: [],
      unsubscribed: [],
      failed: ['a@down.example: InternalErrorException'],
      group: 'created',
    });
    expect(await h.usable(res.body.apiKey)).toBe(true);
    topic.failing = false;
    const retried = await h.call({ method: 'PATCH', path: '/v1/tenants/down-co', body: { monthlyBudgetUsd: 40 } });
    expect(retried.body.reviewerNotifications.subscribed).toEqual(['a@down.example']);
    expect(topic.emailsOf('down-co')).toEqual(['a@down.example']);
  });

  it('a pooled tenant with review on gets its console group (tenant-<id>) at onboarding; one without, none; offboarding removes it', async () => {
    const on = await h.call({ method: 'POST', path: '/v1/tenants', body: withReview('grp-co', ['a@grp.example']) });
    expect(on.body.reviewerNotifications.group).toBe('created');
    expect(groups.tenants.has('grp-co')).toBe(true);
    await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('nogrp-co') });
    expect(groups.tenants.has('nogrp-co')).toBe(false);
    // Review turned on later: the group comes then.
    const later = await h.call({
      method: 'PATCH',
      path: '/v1/tenants/nogrp-co',
      body: { escalation: { reviewThreshold: 0.3, reviewerEmails: ['a@nogrp.example'] } },
    });
    expect(later.body.reviewerNotifications.group).toBe('created');
    expect((await h.call({ method: 'DELETE', path: '/v1/tenants/grp-co' })).status).toBe(200);
    expect(groups.tenants.has('grp-co')).toBe(false);
    expect([...groups.tenants]).toEqual(['nogrp-co']);
  });

  it('Cognito down: onboarding still answers 201, naming the group it could not create; the next change creates it', async () => {
    groups.failing = true;
    const res = await h.call({ method: 'POST', path: '/v1/tenants', body: withReview('cog-co', ['a@cog.example']) });
    expect(res.status).toBe(201);
    expect(res.body.reviewerNotifications.failed).toEqual(['reviewer group: InternalErrorException']);
    groups.failing = false;
    const retried = await h.call({ method: 'PATCH', path: '/v1/tenants/cog-co', body: { monthlyBudgetUsd: 40 } });
    expect(retried.body.reviewerNotifications.group).toBe('created');
  });

  it('the Cognito adapter creates and deletes tenant-<id> in the pool, an existing or missing group being no error', async () => {
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    let answer: Error | undefined;
    const client = {
      send: async (c: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: c.constructor.name, input: c.input });
        if (answer) throw answer;
        return {};
      },
    } as unknown as CognitoIdentityProviderClient;
    const cognito = makeCognitoReviewerGroups(client, 'us-east-1_pool');
    expect(await cognito.create('rev-co')).toBe('created');
    answer = Object.assign(new Error('exists'), { name: 'GroupExistsException' });
    expect(await cognito.create('rev-co')).toBe('exists');
    answer = Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' });
    expect(await cognito.remove('rev-co')).toBe('absent');
    answer = Object.assign(new Error('throttled'), { name: 'TooManyRequestsException' });
    await expect(cognito.create('rev-co')).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    expect(sent[0]).toEqual({
      name: 'CreateGroupCommand',
      input: {
        UserPoolId: 'us-east-1_pool',
        GroupName: 'tenant-rev-co',
        Description: 'Reviewers of pooled tenant rev-co: may answer its escalations in the review console',
      },
    });
    expect(sent[2]).toEqual({
      name: 'DeleteGroupCommand',
      input: { UserPoolId: 'us-east-1_pool', GroupName: 'tenant-rev-co' },
    });
  });

  it('the SNS adapter subscribes by e-mail with the tenant filter on message attributes and asks for the ARN', async () => {
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    const client = {
      send: async (c: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: c.constructor.name, input: c.input });
        return { SubscriptionArn: `${TOPIC}:abc` };
      },
    } as unknown as SNSClient;
    const sns = makeSnsReviewerSubscriptions(client);
    expect(await sns.subscribe(TOPIC, 'rev-co', 'a@rev.example')).toBe(`${TOPIC}:abc`);
    await sns.unsubscribe(`${TOPIC}:abc`);
    expect(sent).toEqual([
      {
        name: 'SubscribeCommand',
        input: {
          TopicArn: TOPIC,
          Protocol: 'email',
          Endpoint: 'a@rev.example',
          ReturnSubscriptionArn: true,
          Attributes: { FilterPolicy: '{"tenantId":["rev-co"]}', FilterPolicyScope: 'MessageAttributes' },
        },
      },
      { name: 'UnsubscribeCommand', input: { SubscriptionArn: `${TOPIC}:abc` } },
    ]);
  });
});
