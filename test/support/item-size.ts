/**
 * An item's size as DynamoDB counts it against its 400 KB limit: attribute names and string values in UTF-8
 * bytes, numbers about one byte per two digits plus one, 3 bytes per map or list plus 1 per element.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * dynalite counts characters, not bytes, so a test that stores non-ASCII text checks the real figure with this.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((a, s) => a + Buffer.byteLength(s, 'utf8'), 0);
  if (v.NS) return v.NS.reduce((a, n) => a + valueBytes({ N: n }), 0);
  if (v.L) return 3 + v.L.reduce((a, e) => a + 1 + valueBytes(e), 0);
  if (v.M)
    return 3 + Object.entries(v.M).reduce((a, [k, e]) => a + 1 + Buffer.byteLength(k, 'utf8') + valueBytes(e), 0);
  return 0;
}

/** Bytes of a marshalled item as DynamoDB counts them. */
export function dynamoItemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((a, [k, v]) => a + Buffer.byteLength(k, 'utf8') + valueBytes(v), 0);
}
