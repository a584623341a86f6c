/**
 * Pooled tenants' reviewer e-mails: a pool cell has one reviewers topic for all its tenants (its review state machine
 * publishes each review with the tenant as message attribute `tenantId`), and the control plane subscribes each of a
 * tenant's reviewer e-mails to its cell's topic with a filter policy on that attribute, so a reviewer is told about
 * their own tenant's reviews only. No CloudFormation resource per tenant: the subscriptions are API calls, kept on the
 * tenant item (`reviewerSubscriptions`) so later changes unsubscribe exactly what was subscribed.
 *
 * A pooled tenant whose reviews go to people also gets its reviewer group in the platform's reviewer user pool
 * (`tenant-<id>`: the review console's sign-in), removed at offboarding.
 *
 * `syncReviewerSubscriptions` makes the subscriptions and the group match what the tenant wants now (after onboarding, a change, a
 * move or offboarding): best effort per e-mail (a failure is reported and retried by the next sync), never a reason
 * to fail the call that changed the tenant.
 */
import { REVIEW_TENANT_ATTRIBUTE } from '../../shared/pool-runtime';
import type { ReviewerSubscription, TenantItem } from '../../shared/registry-schema';
import type { ControlPlaneDeps } from './ports';
import { resolveDocument } from './tenant-items';

/** The filter policy of a tenant's reviewer subscriptions (on message attributes). */
export function reviewerFilterPolicy(tenantId: string): Record<string, string[]> {
  return { [REVIEW_TENANT_ATTRIBUTE]: [tenantId] };
}

/** What a sync did: e-mails subscribed and unsubscribed, and the failures (`<e-mail>: <error>`), or why it did nothing. */
export interface SubscriptionOutcome {
  readonly subscribed: readonly string[];
  readonly unsubscribed: readonly string[];
  readonly failed: readonly string[];
  /** The tenant's reviewer group in the reviewer user pool, when this sync created or removed it. */
  readonly group?: 'created' | 'removed';
}

/** The reviewer e-mails a tenant item wants subscribed now: a pooled, not deleted tenant whose reviews go to people. */
export function wantedReviewerEmails(item: TenantItem): string[] {
  if (item.isolation !== 'pool' || item.status === 'deleted') return [];
  const t = resolveDocument(item.document);
  return t.escalation.reviewThreshold > 0 ? [...new Set(t.escalation.reviewerEmails)].sort() : [];
}

/** The outcome as an API answer shows it: only when the sync had something to do. */
export function notificationsField(outcome: SubscriptionOutcome): { reviewerNotifications?: SubscriptionOutcome } {
  const busy =
    outcome.subscribed.length + outcome.unsubscribed.length + outcome.failed.length > 0 || outcome.group !== undefined;
  return busy ? { reviewerNotifications: outcome } : {};
}

/** Makes `item`'s subscriptions match {@link wantedReviewerEmails}; returns the item as stored and what was done. */
export async function syncReviewerSubscriptions(
  deps: Pick<ControlPlaneDeps, 'registry' | 'cells' | 'reviewerSubscriptions' | 'reviewerGroups'>,
  item: TenantItem,
): Promise<{ item: TenantItem; outcome: SubscriptionOutcome }> {
  const wanted = wantedReviewerEmails(item);
  const group = await syncGroup(deps, item, wanted.length > 0);
  const emails = await syncEmails(deps, item, wanted);
  const failed = [...emails.outcome.failed, ...(group.failed ? [group.failed] : [])];
  return {
    item: emails.item,
    outcome: { ...emails.outcome, failed, ...(group.done ? { group: group.done } : {}) },
  };
}

/**
 * The tenant's reviewer group (console sign-in, `tenant-<id>`): created while its reviews go to people (a user pool
 * holds 10,000 groups, so only tenants with review on get one), removed at offboarding; kept when review is turned
 * off (its members keep their place for when it is on again, and see nothing meanwhile).
 */
async function syncGroup(
  deps: Pick<ControlPlaneDeps, 'reviewerGroups'>,
  item: TenantItem,
  reviewOn: boolean,
): Promise<{ done?: 'created' | 'removed'; failed?: string }> {
  const groups = deps.reviewerGroups;
  if (!groups || item.isolation !== 'pool') return {};
  try {
    if (item.status === 'deleted') return (await groups.remove(item.tenantId)) === 'removed' ? { done: 'removed' } : {};
    if (reviewOn) return (await groups.create(item.tenantId)) === 'created' ? { done: 'created' } : {};
    return {};
  } catch (e) {
    return { failed: `reviewer group: ${(e as Error)?.name ?? 'Error'}` };
  }
}

/** The e-mail subscriptions of {@link syncReviewerSubscriptions}. */
async function syncEmails(
  deps: Pick<ControlPlaneDeps, 'registry' | 'cells' | 'reviewerSubscriptions'>,
  item: TenantItem,
  wanted: readonly string[],
): Promise<{ item: TenantItem; outcome: SubscriptionOutcome }> {
  const current: readonly ReviewerSubscription[] = item.reviewerSubscriptions ?? [];
  const topicArn = deps.cells.find((c) => c.id === item.cell)?.reviewersTopicArn;
  const keep = current.filter((s) => wanted.includes(s.email) && s.topicArn === topicArn);
  const drop = current.filter((s) => !keep.includes(s));
  const add = wanted.filter((e) => !keep.some((s) => s.email === e));
  if (drop.length === 0 && add.length === 0) {
    return { item, outcome: { subscribed: [], unsubscribed: [], failed: [] } };
  }
  const failed: string[] = [];
  const next: ReviewerSubscription[] = [...keep];
  const unsubscribed: string[] = [];
  for (const s of drop) {
    try {
      await deps.reviewerSubscriptions.unsubscribe(s.subscriptionArn);
      unsubscribed.push(s.email);
    } catch (e) {
      next.push(s); // kept on the item: the next sync tries again
      failed.push(`${s.email}: ${(e as Error)?.name ?? 'Error'}`);
    }
  }
  const subscribed: string[] = [];
  if (add.length && !topicArn) {
    failed.push(...add.map((e) => `${e}: cell ${item.cell} has no reviewers topic in POOL_CELLS`));
  } else if (topicArn) {
    for (const email of add) {
      try {
        const subscriptionArn = await deps.reviewerSubscriptions.subscribe(topicArn, item.tenantId, email);
        next.push({ email, topicArn, subscriptionArn });
        subscribed.push(email);
      } catch (e) {
        failed.push(`${email}: ${(e as Error)?.name ?? 'Error'}`);
      }
    }
  }
  const stored = await storeSubscriptions(deps, item, next);
  return { item: stored, outcome: { subscribed, unsubscribed, failed } };
}

/** Writes the subscriptions on the tenant item (re-read once when another call changed it meanwhile). */
async function storeSubscriptions(
  deps: Pick<ControlPlaneDeps, 'registry'>,
  item: TenantItem,
  subscriptions: ReviewerSubscription[],
): Promise<TenantItem> {
  let base = item;
  for (let attempt = 0; attempt < 3; attempt++) {
    const updated: TenantItem = {
      ...base,
      reviewerSubscriptions: [...subscriptions].sort((a, b) => a.email.localeCompare(b.email)),
      version: base.version + 1,
    };
    if (await deps.registry.replaceTenant(updated, base.version)) return updated;
    const fresh = await deps.registry.getTenant(item.tenantId);
    if (!fresh) return item;
    base = fresh;
  }
  throw new Error(`Tenant ${item.tenantId} kept changing while its reviewer subscriptions were stored`);
}
