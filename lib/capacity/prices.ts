/**
 * Prices of what an idle tenant keeps paying for (us-east-1, USD), with where they were read. Only the fixed
 * monthly items: per-request charges (API Gateway, Bedrock, DynamoDB, Step Functions) are zero while idle.
 */
import type { Source } from './types';

const READ_ON = '2026-12-02';

/** One price and its source. */
export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly source: Source;
}

const CLOUDWATCH: Source = {
  url: 'https://aws.amazon.com/cloudwatch/pricing/',
  readOn: READ_ON,
  note: 'Paid tiers (the page shows them in tabs the stored copy lacked) as summarised by c3x.dev and factualminds.com; the free tier (3 dashboards, 10 alarm metrics, 10 custom metrics per account) is not subtracted per tenant',
};

/** The price table of the idle-cost model. */
export const PRICES = {
  kmsKey: {
    usd: 1,
    unit: 'customer managed key per month',
    source: {
      url: 'https://aws.amazon.com/kms/pricing/',
      readOn: READ_ON,
      note: 'Each of the first two rotations adds $1 a month (capped since April 2024): a key rotated yearly costs $2 in its second year and $3 from its third',
    },
  },
  alarmMetric: { usd: 0.1, unit: 'standard-resolution alarm metric per month', source: CLOUDWATCH },
  compositeAlarm: { usd: 0.5, unit: 'composite alarm per month', source: CLOUDWATCH },
  dashboard: { usd: 3, unit: 'dashboard per month', source: CLOUDWATCH },
  customMetric: { usd: 0.3, unit: 'custom metric per month (first 10,000)', source: CLOUDWATCH },
  secret: {
    usd: 0.4,
    unit: 'secret per month',
    source: {
      url: 'https://aws.amazon.com/secrets-manager/pricing/',
      readOn: READ_ON,
      note: '$0.40 per secret per month and $0.05 per 10,000 API calls (figures as summarised by hivebook.wiki; the stored copy of the AWS page was not available); a delivery reads the secret at most once a minute per function instance, an idle tenant not at all',
    },
  },
  lambdaRequest: {
    usd: 0.2 / 1_000_000,
    unit: 'Lambda request',
    source: { url: 'https://aws.amazon.com/lambda/pricing/', readOn: READ_ON, note: '$0.20 per 1M requests' },
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'Lambda GB-second on arm64',
    source: { url: 'https://aws.amazon.com/lambda/pricing/', readOn: READ_ON, note: 'First 7.5 billion GB-s a month' },
  },
  dynamodbStorage: {
    usd: 0.25,
    unit: 'GB-month of DynamoDB Standard table storage (table and global secondary indexes)',
    source: {
      url: 'https://aws.amazon.com/dynamodb/pricing/',
      readOn: READ_ON,
      note: '"The first 25 GB consumed per month is free, and prices start from $0.25 per GB-month thereafter" (the free 25 GB are per account and region, not subtracted per tenant); an item is billed at its size plus 100 bytes of indexing overhead (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)',
    },
  },
  dynamodbPitr: {
    usd: 0.2,
    unit: 'GB-month of DynamoDB continuous backup (point-in-time recovery), table size without global secondary indexes',
    source: {
      url: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Point-in-time-recovery.html',
      readOn: READ_ON,
      note: 'PITR is priced on the size of the table and its local secondary indexes (the page); $0.20 per GB-month in us-east-1 as summarised by finops.com.py from the AWS pricing page',
    },
  },
} as const satisfies Record<string, Price>;
