/**
 * The ledger's DynamoDB client and conditional-write helpers, written once for every function: each handler
 * builds its client with {@link ledgerDocumentClient} (once per container), and every conditional write that
 * treats a failed condition as an answer (not an error) goes through {@link whenConditionHolds}.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Attempts the SDK makes for one ledger call (the first and its retries), in every handler. */
export const LEDGER_MAX_ATTEMPTS = 5;

/**
 * The DocumentClient a handler reads and writes its ledger with: attributes that are `undefined` are left out.
 * @param client - the low-level client (tests pass one on their endpoint)
 */
export function ledgerDocumentClient(
  client: DynamoDBClient = new DynamoDBClient({ maxAttempts: LEDGER_MAX_ATTEMPTS }),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** True when a write failed only because its condition did not hold. */
export function isConditionFailure(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (e as Error)?.name === 'ConditionalCheckFailedException';
}

/** Runs a conditional write: `true` when it was written, `false` when its condition failed; other errors throw. */
export async function whenConditionHolds(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}
