/**
 * `Ledger` on one DynamoDB table per tenant (key design in lambda/shared/ledger-schema.ts). Every method is
 * a single-item read or conditional write.
 *
 * The month counter item holds the settled totals (overall and `tier_<tier>_<counter>`), the committed
 * spend (settled + held) and one `rsv_<id>` attribute per open reservation. Reserving is one conditional
 * update (`committed ≤ limit`), so concurrent requests can never hold more than the budget; settling
 * removes the request's reservation attributes and adds its actual usage in one update conditional on
 * those attributes existing, so a retried or duplicated settlement is applied once.
 *
 * A conditional write whose response is lost (a timeout or 5xx after DynamoDB applied it) is retried by the
 * SDK and then fails its condition against its own write. Every conditional write therefore reads the item
 * back after a condition failure and reports success when the item already holds this run's write (the
 * record's `runId`, the reservation's own attribute), so such a retry is never mistaken for a conflict.
 *
 * The ledger is built with a {@link KeyScope}: a silo ledger's keys are the key design's own, a pooled one's all
 * start with its tenant's `T#<tenant>#` (so the tenant-scoped session it is given may write them; another tenant's
 * keys are never built here).
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { isConditionFailure } from '../../shared/dynamo';
import { type KeyScope, SILO_KEY_SCOPE } from '../../shared/key-scope';
import { LEDGER_KEYS, requestKey as requestKeyIn, usageKey as usageKeyIn } from '../../shared/ledger-schema';
import { REVIEW_GSI, reviewPartition } from '../../shared/review-schema';
import {
  type Ledger,
  LedgerInputError,
  type OpenReservation,
  type RequestOutcome,
  type RequestRecord,
  type Settlement,
  type TierUsage,
  type UsageCounters,
} from '../core/ports';

const TIER_COUNTERS = ['requests', 'calls', 'inputTokens', 'outputTokens', 'costNanoUsd'] as const;
const TIER_PREFIX = 'tier_';
/** Settled cost plus open reservations: the figure the budget condition checks. */
const COMMITTED = 'committedNanoUsd';
/** Sum of open reservations (for visibility; committed − reserved = settled). */
const RESERVED = 'reservedNanoUsd';
/** One attribute per open reservation, so settling can be made conditional on it (exactly once). */
const RESERVATION_PREFIX = 'rsv_';

/** The options the handlers' DocumentClient marshalls with (lambda/inference/index.ts). */
const MARSHALL_OPTIONS = { removeUndefinedValues: true } as const;

/**
 * Marshalls an item the way the DocumentClient will, before anything is sent: what it cannot represent (a map
 * whose `constructor` key is not a function, a special number, …) is the caller's input, never an outage,
 * and must not reach the SDK, whose error would read like one.
 */
function checkMarshallable(item: Record<string, unknown>): void {
  try {
    marshall(item, MARSHALL_OPTIONS);
  } catch (e) {
    throw new LedgerInputError(`The record cannot be stored: ${String((e as Error)?.message).slice(0, 200)}`);
  }
}

type ReopenedRun = Parameters<Ledger['reopenFailedRequest']>[1];
type SettleResult = ReturnType<Ledger['settle']>;

function stripKeys(item: Record<string, unknown>): RequestRecord {
  const { [LEDGER_KEYS.partitionKey]: _pk, [LEDGER_KEYS.sortKey]: _sk, ...rest } = item;
  return rest as unknown as RequestRecord;
}

/** The ledger on one table, through a shared DocumentClient (created once per container by the caller). */
export class DynamoLedger implements Ledger {
  private readonly requestKey: (requestId: string) => Record<string, string>;
  private readonly usageKey: (month: string) => Record<string, string>;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly scope: KeyScope = SILO_KEY_SCOPE,
  ) {
    this.requestKey = (requestId) => requestKeyIn(requestId, scope);
    this.usageKey = (month) => usageKeyIn(month, scope);
  }

  private async readRecord(requestId: string, signal?: AbortSignal): Promise<RequestRecord | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.requestKey(requestId), ConsistentRead: true }),
      { abortSignal: signal },
    );
    return res.Item ? stripKeys(res.Item) : undefined;
  }

  getRequest(requestId: string): Promise<RequestRecord | undefined> {
    return this.readRecord(requestId);
  }

  async createRequest(record: RequestRecord): Promise<'created' | 'exists'> {
    const item = { ...this.requestKey(record.requestId), ...record };
    checkMarshallable(item);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': LEDGER_KEYS.partitionKey },
        }),
      );
      return 'created';
    } catch (e) {
      // The expression is fixed: a ValidationException here is about the item (what the caller sent).
      if ((e as Error)?.name === 'ValidationException') {
        throw new LedgerInputError(`DynamoDB refused the record: ${String((e as Error).message).slice(0, 200)}`);
      }
      if (!isConditionFailure(e)) throw e;
      const now = await this.readRecord(record.requestId);
      return now?.runId === record.runId ? 'created' : 'exists';
    }
  }

  async reopenFailedRequest(requestId: string, run: ReopenedRun): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.requestKey(requestId),
          UpdateExpression:
            'SET #status = :inProgress, #updatedAt = :at, #runs = :runs, #runId = :runId, #month = :month, #expiresAt = :expiresAt REMOVE #error, #reservationIds',
          ConditionExpression: '#status = :failed',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#updatedAt': 'updatedAt',
            '#runs': 'runs',
            '#runId': 'runId',
            '#month': 'month',
            '#expiresAt': 'expiresAt',
            '#error': 'error',
            '#reservationIds': 'reservationIds',
          },
          ExpressionAttributeValues: {
            ':inProgress': 'in_progress',
            ':failed': 'failed',
            ':at': run.at,
            ':runs': run.runs,
            ':runId': run.runId,
            ':month': run.month,
            ':expiresAt': run.expiresAt,
          },
        }),
      );
      return true;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const now = await this.readRecord(requestId);
      return now?.runId === run.runId && now.status === 'in_progress';
    }
  }

  async finishRequest(
    requestId: string,
    runId: string,
    outcome: RequestOutcome,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status', '#runId': 'runId' };
    const values: Record<string, unknown> = { ':inProgress': 'in_progress', ':runId': runId };
    const sets: string[] = [];
    for (const [k, v] of Object.entries(outcome)) {
      if (v === undefined) continue;
      names[`#${k}`] = k;
      values[`:${k}`] = v;
      sets.push(`#${k} = :${k}`);
    }
    if (outcome.status === 'pending_review') {
      // Listed until the review workflow's first step picks it up (see review-schema.ts).
      names['#gpk'] = REVIEW_GSI.partitionKey;
      names['#gsk'] = REVIEW_GSI.sortKey;
      values[':gpk'] = reviewPartition('handoff', this.scope);
      values[':gsk'] = `${outcome.updatedAt}#${requestId}`;
      sets.push('#gpk = :gpk', '#gsk = :gsk');
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.requestKey(requestId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: '#status = :inProgress AND #runId = :runId',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
        { abortSignal: signal },
      );
      return true;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      // Our own write, applied before its response was lost: same run, same outcome, same timestamp.
      const now = await this.readRecord(requestId, signal);
      return now?.runId === runId && now.status === outcome.status && now.updatedAt === outcome.updatedAt;
    }
  }

  async reserve(
    month: string,
    reservation: { id: string; requestId: string; nanoUsd: number; at: number },
    maxCommittedBefore: number,
  ): Promise<'reserved' | 'over_budget'> {
    if (maxCommittedBefore < 0) return 'over_budget';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.usageKey(month),
          UpdateExpression: 'SET #rsv = :entry ADD #committed :nano, #reserved :nano',
          ConditionExpression:
            '(attribute_not_exists(#committed) OR #committed <= :max) AND attribute_not_exists(#rsv)',
          ExpressionAttributeNames: {
            '#rsv': `${RESERVATION_PREFIX}${reservation.id}`,
            '#committed': COMMITTED,
            '#reserved': RESERVED,
          },
          ExpressionAttributeValues: {
            ':entry': { requestId: reservation.requestId, nanoUsd: reservation.nanoUsd, at: reservation.at },
            ':nano': reservation.nanoUsd,
            ':max': maxCommittedBefore,
          },
        }),
      );
      return 'reserved';
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      // Reservation ids are unique per run: if the attribute is there, this call made it.
      const res = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: this.usageKey(month),
          ConsistentRead: true,
          ProjectionExpression: '#rsv',
          ExpressionAttributeNames: { '#rsv': `${RESERVATION_PREFIX}${reservation.id}` },
        }),
      );
      return res.Item?.[`${RESERVATION_PREFIX}${reservation.id}`] ? 'reserved' : 'over_budget';
    }
  }

  async settle(month: string, settlement: Settlement, signal?: AbortSignal): SettleResult {
    const names: Record<string, string> = {};
    const values: Record<string, number> = {};
    const adds: string[] = [];
    let i = 0;
    const add = (attr: string, v: number) => {
      names[`#a${i}`] = attr;
      values[`:v${i}`] = v;
      adds.push(`#a${i} :v${i}`);
      i++;
    };
    let cost = 0;
    let inputTokens = 0;
    let outputTokens = 0;
    for (const [tier, u] of Object.entries(settlement.byTier)) {
      for (const k of TIER_COUNTERS) add(`${TIER_PREFIX}${tier}_${k}`, u[k]);
      cost += u.costNanoUsd;
      inputTokens += u.inputTokens;
      outputTokens += u.outputTokens;
    }
    add('requests', settlement.requests);
    add('inputTokens', inputTokens);
    add('outputTokens', outputTokens);
    add('costNanoUsd', cost);
    add(COMMITTED, cost - settlement.reservedNanoUsd);
    add(RESERVED, -settlement.reservedNanoUsd);
    const removes = settlement.reservationIds.map((id, j) => {
      names[`#r${j}`] = `${RESERVATION_PREFIX}${id}`;
      return `#r${j}`;
    });
    const condition = removes.map((r) => `attribute_exists(${r})`).join(' AND ');
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.usageKey(month),
          UpdateExpression: `ADD ${adds.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ...(condition ? { ConditionExpression: condition } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
        { abortSignal: signal },
      );
      const after = res.Attributes?.costNanoUsd;
      return { result: 'settled' as const, costNanoUsd: typeof after === 'number' ? after : cost };
    } catch (e) {
      if (isConditionFailure(e)) return { result: 'already_settled' as const };
      throw e;
    }
  }

  async getUsage(month: string): Promise<UsageCounters> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: this.usageKey(month), ConsistentRead: true }),
    );
    const item = (res.Item ?? {}) as Record<string, unknown>;
    const num = (k: string) => (typeof item[k] === 'number' ? (item[k] as number) : 0);
    const byTier: Record<string, TierUsage> = {};
    const openReservations: OpenReservation[] = [];
    for (const [key, value] of Object.entries(item)) {
      if (key.startsWith(RESERVATION_PREFIX)) {
        const v = value as { requestId: string; nanoUsd: number; at: number };
        openReservations.push({ id: key.slice(RESERVATION_PREFIX.length), ...v });
        continue;
      }
      const m = /^tier_([a-z]+)_calls$/.exec(key);
      if (!m) continue;
      const t = m[1]!;
      const c = (k: (typeof TIER_COUNTERS)[number]) => num(`${TIER_PREFIX}${t}_${k}`);
      byTier[t] = {
        requests: c('requests'),
        calls: c('calls'),
        inputTokens: c('inputTokens'),
        outputTokens: c('outputTokens'),
        costNanoUsd: c('costNanoUsd'),
      };
    }
    return {
      month,
      requests: num('requests'),
      inputTokens: num('inputTokens'),
      outputTokens: num('outputTokens'),
      costNanoUsd: num('costNanoUsd'),
      committedNanoUsd: num(COMMITTED),
      openReservations: openReservations.sort((a, b) => a.at - b.at),
      byTier,
    };
  }
}

/** Creates the ledger on a shared DocumentClient (created once per container by the caller), on `scope`'s keys. */
export function makeDynamoLedger(
  doc: DynamoDBDocumentClient,
  tableName: string,
  scope: KeyScope = SILO_KEY_SCOPE,
): Ledger {
  return new DynamoLedger(doc, tableName, scope);
}
