/**
 * Copies a tenant's ledger between the two models (README, "Moving a tenant between the models"):
 *
 *   npm run tenant:move-ledger -- --tenant acme --direction silo-to-pool|pool-to-silo \
 *     --from-table <ledger> --to-table <ledger> [--registry-table switchboard-tenant-registry] [--delete-source]
 *
 * Run by an operator with their own credentials, from the environment as the AWS CLI reads them
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; from a profile: `eval "$(aws configure
 * export-credentials --format env)"`), region `--region` else `AWS_REGION` / `AWS_DEFAULT_REGION`;
 * `AWS_ENDPOINT_URL_DYNAMODB` is honoured. **The tenant must be suspended during the copy** (`PATCH
 * /v1/tenants/<id> {"suspend": true}`, and a silo's API key disabled), so nothing writes its items meanwhile; with
 * `--registry-table` the script checks the registry says so, and refuses otherwise.
 *
 * What it does, in passes over the source (page by page: memory stays bounded whatever the table's size):
 *
 * 1. survey: counts the tenant's items (silo: the whole silo table, it is the tenant's; pool: a Scan filtered
 *    `begins_with(pk, 'T#<id>#')`), and refuses, before writing anything, tables that look swapped (pooled keys in
 *    a silo source, silo keys in a pool target, and the reverse) and a review waiting for a decision (its
 *    workflow and its encrypted task token belong to the source: decide it first);
 * 2. copy: each item with its partition key rewritten (`REQ#r1` ⇄ `T#acme#REQ#r1`, lambda/shared/pool-keys.ts) and
 *    the review index partition too (`gsi1pk`, lambda/shared/review-schema.ts REVIEW_GSI: in a pool cell it carries
 *    the tenant's prefix like `pk`), every other attribute as it is, written with `attribute_not_exists(pk)`: a
 *    rerun never overwrites (an item already there with the same attributes is counted `already there`; one with
 *    other values is a conflict, reported and left);
 * 3. verify: every source item's copy is read back (strongly consistent) and compared;
 * 4. with `--delete-source`, only after a verification without a miss: the source items whose copy is (checked
 *    again) identical are deleted.
 *
 * A pooled tenant's admission windows (`T#<id>#ADMIT`, lambda/shared/dynamo-admission.ts) are not copied to a
 * silo: a silo is limited by its API's usage plan, and the windows expire within a day. Prints the counts on stdout;
 * a refusal, a conflict or a failed verification exits 1.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { LEDGER_KEY_PREFIXES } from '../lambda/shared/ledger-access';
import { LEDGER_KEYS } from '../lambda/shared/ledger-schema';
import { poolPartitionKey, poolTenantPrefix, tenantOfPoolKey } from '../lambda/shared/pool-keys';
import { REGISTRY_TABLE_NAME } from '../lambda/shared/pool-runtime';
import { tenantKey } from '../lambda/shared/registry-schema';
import { REVIEW_GSI } from '../lambda/shared/review-schema';
import { TENANT_ID_PATTERN } from '../lambda/shared/tenant-vocabulary';

export const USAGE = `usage: npm run tenant:move-ledger -- --tenant <id> --direction silo-to-pool|pool-to-silo --from-table <table> --to-table <table> [--registry-table ${REGISTRY_TABLE_NAME}] [--delete-source] [--region <region>]

Copies tenant <id>'s ledger items between its silo ledger (LedgerTable output of Switchboard-Tenant-<id>) and its
pool cell's ledger (LedgerTable output of Switchboard-Pool-<n>), rewriting the partition keys (T#<id>#…), never
overwriting an item, then verifies every copy. --delete-source deletes the source items after a verified copy.
The tenant must be suspended during the copy (PATCH /v1/tenants/<id> {"suspend": true}; a silo's API key disabled):
with --registry-table the registry is checked and an active tenant refused.
Credentials and region from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
AWS_REGION); AWS_ENDPOINT_URL_DYNAMODB is honoured.`;

export const DIRECTIONS = ['silo-to-pool', 'pool-to-silo'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Silo keys that exist only in a pool cell (not copied to a silo): the admission windows (dynamo-admission.ts). */
export const POOL_ONLY_SILO_KEYS = ['ADMIT'] as const;

/** Table names as DynamoDB allows them. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
/** Items per Scan page (a page is also at most 1 MB): the most the script holds at once. */
export const DEFAULT_PAGE_SIZE = 100;
/** Conditional writes in flight at once. */
const PARALLEL_WRITES = 8;
/** Conflicting keys named in the report (the rest are counted). */
const NAMED = 10;

/** A refusal: its message is for the person running the command. */
export class MoveLedgerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoveLedgerError';
  }
}

/** The command's options. */
export interface MoveLedgerOptions {
  readonly tenant: string;
  readonly direction: Direction;
  readonly fromTable: string;
  readonly toTable: string;
  readonly registryTable?: string;
  readonly deleteSource: boolean;
  readonly region?: string;
}

/** What the command needs from the world (tests pass their own). */
export interface MoveLedgerEnv {
  readonly env: NodeJS.ProcessEnv;
  /** Items per Scan page. @default DEFAULT_PAGE_SIZE */
  readonly pageSize?: number;
}

/** What a run did. */
export interface MoveLedgerReport {
  readonly sourceItems: number;
  readonly skipped: number;
  readonly copied: number;
  readonly alreadyThere: number;
  readonly conflicts: number;
  readonly verified: number;
  readonly deleted: number;
  readonly ok: boolean;
  readonly lines: readonly string[];
}

type Item = Record<string, AttributeValue>;
const PK = LEDGER_KEYS.partitionKey;
const SK = LEDGER_KEYS.sortKey;
const GSI_PK = REVIEW_GSI.partitionKey;

/** The options of `argv`, or a refusal naming what is wrong. */
export function parseOptions(argv: readonly string[]): MoveLedgerOptions | 'help' {
  const values: Record<string, string> = {};
  let deleteSource = false;
  const valued = ['--tenant', '--direction', '--from-table', '--to-table', '--registry-table', '--region'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--delete-source') {
      deleteSource = true;
    } else if (valued.includes(a) && values[a] === undefined) {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new MoveLedgerError(`${a} needs a value\n${USAGE}`);
      values[a] = v;
    } else {
      throw new MoveLedgerError(`unexpected ${JSON.stringify(a.slice(0, 80))}\n${USAGE}`);
    }
  }
  const missing = ['--tenant', '--direction', '--from-table', '--to-table'].filter((k) => values[k] === undefined);
  if (missing.length) throw new MoveLedgerError(`missing ${missing.join(', ')}\n${USAGE}`);
  const problems: string[] = [];
  const tenant = values['--tenant']!;
  if (!TENANT_ID_PATTERN.test(tenant)) {
    problems.push(`--tenant: got ${JSON.stringify(tenant.slice(0, 64))}; must match ${TENANT_ID_PATTERN.source}`);
  }
  const direction = values['--direction']!;
  if (!(DIRECTIONS as readonly string[]).includes(direction)) {
    problems.push(`--direction: got ${JSON.stringify(direction.slice(0, 64))}; must be ${DIRECTIONS.join(' or ')}`);
  }
  for (const k of ['--from-table', '--to-table', '--registry-table']) {
    const v = values[k];
    if (v !== undefined && !TABLE_NAME.test(v)) {
      problems.push(`${k}: got ${JSON.stringify(v.slice(0, 64))}; a table name is 3-255 of A-Z a-z 0-9 _ . -`);
    }
  }
  if (values['--from-table'] === values['--to-table']) problems.push('--from-table and --to-table are the same table');
  const region = values['--region'];
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    problems.push(`--region: got ${JSON.stringify(region.slice(0, 64))}; a region looks like eu-west-1`);
  }
  if (problems.length) throw new MoveLedgerError(problems.join('\n'));
  return {
    tenant,
    direction: direction as Direction,
    fromTable: values['--from-table']!,
    toTable: values['--to-table']!,
    ...(values['--registry-table'] ? { registryTable: values['--registry-table'] } : {}),
    deleteSource,
    ...(region ? { region } : {}),
  };
}

/** A DynamoDB client from the environment (credentials, region, `AWS_ENDPOINT_URL_DYNAMODB`). */
export function clientFromEnv(env: NodeJS.ProcessEnv, region?: string): DynamoDBClient {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN } = env;
  if (!accessKeyId || !secretAccessKey) {
    throw new MoveLedgerError(
      'No AWS credentials in the environment: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), e.g. eval "$(aws configure export-credentials --format env)"',
    );
  }
  const r = region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!r) throw new MoveLedgerError('No region: pass --region, or set AWS_REGION');
  return new DynamoDBClient({
    region: r,
    credentials: { accessKeyId, secretAccessKey, ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}) },
    ...(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {}),
    maxAttempts: 8,
  });
}

/** The item as the other model keys it; `undefined` for a pool-only item (not copied to a silo). */
export function rewriteItem(item: Item, tenant: string, direction: Direction): Item | undefined {
  const prefix = poolTenantPrefix(tenant);
  const pk = item[PK]?.S;
  if (pk === undefined) throw new MoveLedgerError(`an item without a string ${PK}: ${describe(item)}`);
  const move = (value: string, what: string): string => {
    if (direction === 'silo-to-pool') return `${prefix}${value}`;
    if (!value.startsWith(prefix)) {
      throw new MoveLedgerError(`${what} ${JSON.stringify(value.slice(0, 120))} is not under ${prefix}; not copied`);
    }
    return value.slice(prefix.length);
  };
  const newPk = move(pk, PK);
  if (direction === 'pool-to-silo' && (POOL_ONLY_SILO_KEYS as readonly string[]).includes(newPk)) return undefined;
  const gsi = item[GSI_PK]?.S;
  return {
    ...item,
    [PK]: { S: newPk },
    ...(gsi !== undefined ? { [GSI_PK]: { S: move(gsi, GSI_PK) } } : {}),
  };
}

/** Runs the command; returns its report (lines for stdout). Refusals before any write throw MoveLedgerError. */
export async function run(argv: readonly string[], world: MoveLedgerEnv): Promise<MoveLedgerReport | 'help'> {
  const options = parseOptions(argv);
  if (options === 'help') return 'help';
  const client = clientFromEnv(world.env, options.region);
  try {
    return await moveLedger(client, options, world.pageSize ?? DEFAULT_PAGE_SIZE);
  } catch (e) {
    const name = (e as Error)?.name;
    if (name === 'ResourceNotFoundException') {
      throw new MoveLedgerError(
        `a table does not exist (${options.fromTable}, ${options.toTable}${options.registryTable ? `, ${options.registryTable}` : ''}): ${(e as Error).message}`,
      );
    }
    throw e;
  } finally {
    client.destroy();
  }
}

/** The passes of the file header, on `client`. */
export async function moveLedger(
  client: DynamoDBClient,
  o: MoveLedgerOptions,
  pageSize = DEFAULT_PAGE_SIZE,
): Promise<MoveLedgerReport> {
  const prefix = poolTenantPrefix(o.tenant);
  const lines: string[] = [
    `Ledger of tenant ${o.tenant}, ${o.direction}: ${o.fromTable} → ${o.toTable} (pooled keys under ${prefix})`,
  ];
  lines.push(await checkRegistry(client, o));
  const source = (): AsyncGenerator<Item[]> =>
    pages(client, {
      TableName: o.fromTable,
      ConsistentRead: true,
      Limit: pageSize,
      ...(o.direction === 'pool-to-silo'
        ? {
            FilterExpression: 'begins_with(#pk, :prefix)',
            ExpressionAttributeNames: { '#pk': PK },
            ExpressionAttributeValues: { ':prefix': { S: prefix } },
          }
        : {}),
    });

  // 1. Survey: counts, and tables that look swapped, before anything is written.
  let sourceItems = 0;
  let skipped = 0;
  let pooledInSilo = 0;
  const waiting = new NamedCount();
  for await (const page of source()) {
    for (const item of page) {
      sourceItems++;
      if (isWaitingReview(item, prefix, o.direction)) waiting.add(describe(item));
      if (o.direction === 'silo-to-pool' && tenantOfPoolKey(item[PK]?.S ?? '') !== undefined) pooledInSilo++;
      // Every item is rewritten once here, so an item that cannot be (a key outside the prefix) stops the run now.
      if (rewriteItem(item, o.tenant, o.direction) === undefined) skipped++;
    }
  }
  if (pooledInSilo) {
    throw new MoveLedgerError(
      `${o.fromTable} holds ${pooledInSilo} pooled item(s) (T#<tenant>#…): it is a pool cell's ledger, not ${o.tenant}'s silo ledger; check --from-table and --direction. Nothing was written`,
    );
  }
  if (waiting.count) {
    throw new MoveLedgerError(
      `${waiting.count} review(s) of ${o.tenant} wait for a decision (${waiting}): their workflow runs in the source's state machine and their task token is encrypted with the source's key, so they cannot move. Decide them (or let them expire) first. Nothing was written`,
    );
  }
  await checkTarget(client, o, pageSize);
  lines.push(
    `source: ${sourceItems} item(s) of ${o.tenant} in ${o.fromTable}${skipped ? `; ${skipped} pool admission window(s) (${poolPartitionKey(o.tenant, POOL_ONLY_SILO_KEYS[0])}) not copied: a silo is limited by its usage plan, and they expire within a day` : ''}`,
  );

  // 2. Copy, never overwriting.
  let copied = 0;
  let alreadyThere = 0;
  const conflicts = new NamedCount();
  for await (const page of source()) {
    const copies = page.map((item) => rewriteItem(item, o.tenant, o.direction)).filter((c) => c !== undefined);
    for (let i = 0; i < copies.length; i += PARALLEL_WRITES) {
      const outcomes = await Promise.all(copies.slice(i, i + PARALLEL_WRITES).map((c) => putNew(client, o.toTable, c)));
      for (const [j, outcome] of outcomes.entries()) {
        if (outcome === 'copied') copied++;
        else if (outcome === 'same') alreadyThere++;
        else conflicts.add(describe(copies[i + j]!));
      }
    }
  }
  lines.push(`copied: ${copied}; already there (identical): ${alreadyThere}`);
  if (conflicts.count) {
    lines.push(
      `conflicts: ${conflicts.count} item(s) already in ${o.toTable} with other values, left as they are (never overwritten): ${conflicts}`,
    );
  }

  // 3. Verify every copy.
  let verified = 0;
  let missing = 0;
  for await (const page of source()) {
    const checked = await checkCopies(client, o, page);
    verified += checked.filter((c) => c.same).length;
    missing += checked.filter((c) => !c.same).length;
  }
  const expected = sourceItems - skipped;
  lines.push(`verified: ${verified} of ${expected} copies in ${o.toTable} identical to their source`);
  const ok = missing === 0 && conflicts.count === 0 && verified === expected;

  // 4. Delete the source, only after a verification without a miss, and only items whose copy is identical.
  let deleted = 0;
  if (o.deleteSource && ok) {
    let left = 0;
    for await (const page of source()) {
      const checked = await checkCopies(client, o, page);
      left += checked.filter((c) => !c.same).length;
      const keys = checked.filter((c) => c.same).map((c) => ({ [PK]: c.source[PK]!, [SK]: c.source[SK]! }));
      if (o.direction === 'pool-to-silo' && keys.some((k) => !k[PK]!.S!.startsWith(prefix))) {
        throw new Error(`a key outside ${prefix} in the delete pass`);
      }
      await deleteKeys(client, o.fromTable, keys);
      deleted += keys.length;
    }
    lines.push(
      `deleted from ${o.fromTable}: ${deleted} source item(s)${left ? `; ${left} left (changed since the verification: is the tenant suspended?)` : ''}`,
    );
    if (left) return report(false);
  } else if (o.deleteSource) {
    lines.push(`source kept: nothing deleted from ${o.fromTable}, since the copy is not verified`);
  } else {
    lines.push(`source kept in ${o.fromTable} (--delete-source deletes it after a verified copy)`);
  }
  if (!ok) {
    lines.push(
      'NOT VERIFIED: see the lines above; the tenant must stay suspended. Rerun when the cause is fixed (a rerun copies nothing twice)',
    );
  }
  return report(ok);

  function report(success: boolean): MoveLedgerReport {
    return {
      sourceItems,
      skipped,
      copied,
      alreadyThere,
      conflicts: conflicts.count,
      verified,
      deleted,
      ok: success,
      lines,
    };
  }
}

/**
 * A review waiting for a human decision (`REV#…` with status `pending`): it cannot move, since its workflow waits
 * in the source's state machine and its task token (`tokenCiphertext`) is encrypted with the source's key
 * (lambda/review/adapters/kms-token-cipher.ts). Requests whose review hand-off has not started (`HANDOFF#pending`)
 * and decisions not yet applied (`APPLY#pending`) do move: the target's sweeper finds them in its review index.
 */
function isWaitingReview(item: Item, prefix: string, direction: Direction): boolean {
  const pk = item[PK]?.S ?? '';
  const siloKey = direction === 'pool-to-silo' && pk.startsWith(prefix) ? pk.slice(prefix.length) : pk;
  return siloKey.startsWith(LEDGER_KEY_PREFIXES.review) && item.status?.S === 'pending';
}

/** With --registry-table: the tenant must be in the registry and suspended. */
async function checkRegistry(client: DynamoDBClient, o: MoveLedgerOptions): Promise<string> {
  if (!o.registryTable) {
    return `registry not checked (no --registry-table): ${o.tenant} must be suspended during the copy`;
  }
  const doc = DynamoDBDocumentClient.from(client);
  const item = (
    await doc.send(new GetCommand({ TableName: o.registryTable, Key: tenantKey(o.tenant), ConsistentRead: true }))
  ).Item as { status?: string; isolation?: string; cell?: string } | undefined;
  if (!item) throw new MoveLedgerError(`${o.tenant}: no such tenant in ${o.registryTable}. Nothing was written`);
  if (item.status !== 'suspended') {
    throw new MoveLedgerError(
      `${o.tenant} is ${item.status} in ${o.registryTable}: suspend it first (PATCH /v1/tenants/${o.tenant} {"suspend": true}), so nothing writes its ledger during the copy. Nothing was written`,
    );
  }
  return `registry: ${o.tenant} is suspended (isolation ${item.isolation}, cell ${item.cell})`;
}

/** The target must look like the model it is said to be (its first page: pooled keys in a pool, silo keys in a silo). */
async function checkTarget(client: DynamoDBClient, o: MoveLedgerOptions, pageSize: number): Promise<void> {
  const r = await client.send(
    new ScanCommand({
      TableName: o.toTable,
      Limit: pageSize,
      ProjectionExpression: '#pk',
      ExpressionAttributeNames: { '#pk': PK },
    }),
  );
  const wrong = (r.Items ?? []).filter(
    (i) => (tenantOfPoolKey(i[PK]?.S ?? '') === undefined) === (o.direction === 'silo-to-pool'),
  );
  if (wrong.length) {
    const what =
      o.direction === 'silo-to-pool'
        ? 'silo items (not T#<tenant>#…): a silo ledger'
        : "pooled items (T#<tenant>#…): a pool cell's ledger";
    throw new MoveLedgerError(
      `${o.toTable} holds ${what}, not the target of ${o.direction}; check --to-table and --direction. Nothing was written`,
    );
  }
}

/** Scans page by page (one page held at a time). */
async function* pages(client: DynamoDBClient, input: ScanCommandInput): AsyncGenerator<Item[]> {
  let start: Item | undefined;
  do {
    const r = await client.send(new ScanCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    yield r.Items ?? [];
    start = r.LastEvaluatedKey;
  } while (start);
}

/** Writes `item` if its key is free: `copied`; else `same` when the item there is identical, `conflict` otherwise. */
async function putNew(client: DynamoDBClient, table: string, item: Item): Promise<'copied' | 'same' | 'conflict'> {
  try {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      }),
    );
    return 'copied';
  } catch (e) {
    if ((e as Error)?.name !== 'ConditionalCheckFailedException') throw e;
  }
  const [there] = await getMany(client, table, [item]);
  return there && sameItem(there, item) ? 'same' : 'conflict';
}

/** Each source item of a page with whether its copy in the target is identical (skipped items left out). */
async function checkCopies(client: DynamoDBClient, o: MoveLedgerOptions, page: Item[]) {
  const pairs = page
    .map((source) => ({ source, copy: rewriteItem(source, o.tenant, o.direction) }))
    .filter((p): p is { source: Item; copy: Item } => p.copy !== undefined);
  const found = await getMany(
    client,
    o.toTable,
    pairs.map((p) => p.copy),
  );
  const byKey = new Map(found.map((i) => [keyOf(i), i]));
  return pairs.map((p) => {
    const there = byKey.get(keyOf(p.copy));
    return { source: p.source, same: !!there && sameItem(there, p.copy) };
  });
}

/** The items at the keys of `items` (strongly consistent; BatchGetItem takes 100 keys). */
async function getMany(client: DynamoDBClient, table: string, items: Item[]): Promise<Item[]> {
  const out: Item[] = [];
  for (let i = 0; i < items.length; i += 100) {
    let keys: Item[] = items.slice(i, i + 100).map((it) => ({ [PK]: it[PK]!, [SK]: it[SK]! }));
    for (let attempt = 0; keys.length; attempt++) {
      if (attempt > 8) throw new Error(`${keys.length} read(s) left unprocessed by DynamoDB after retries`);
      if (attempt) await sleep(Math.min(50 * 2 ** attempt, 2000));
      const r = await client.send(
        new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
      );
      out.push(...(r.Responses?.[table] ?? []));
      keys = (r.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
    }
  }
  return out;
}

/** Deletes by key (BatchWriteItem takes 25), retrying unprocessed ones. */
async function deleteKeys(client: DynamoDBClient, table: string, keys: Item[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 25) {
    let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length; attempt++) {
      if (attempt > 8) throw new Error(`${requests.length} delete(s) left unprocessed by DynamoDB after retries`);
      if (attempt) await sleep(Math.min(50 * 2 ** attempt, 2000));
      const r = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
      requests = (r.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A count that keeps the first {@link NAMED} names (memory stays bounded however many there are). */
class NamedCount {
  count = 0;
  private readonly names: string[] = [];
  add(name: string): void {
    this.count++;
    if (this.names.length < NAMED) this.names.push(name);
  }
  toString(): string {
    return `${this.names.join(', ')}${this.count > this.names.length ? ', …' : ''}`;
  }
}
const keyOf = (item: Item) => JSON.stringify([item[PK]?.S, item[SK]?.S]);
const describe = (item: Item) => `${item[PK]?.S ?? '?'} / ${item[SK]?.S ?? '?'}`;

/** Whether two items hold the same attributes and values (sets compared as sets). */
export function sameItem(a: Item, b: Item): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => {
          const x = normalize(o[k]);
          return [k, ['SS', 'NS', 'BS'].includes(k) && Array.isArray(x) ? [...x].sort() : x];
        }),
    );
  }
  return v;
}

async function main(): Promise<void> {
  try {
    const result = await run(process.argv.slice(2), { env: process.env });
    if (result === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    process.stdout.write(`${result.lines.join('\n')}\n`);
    if (!result.ok) process.exitCode = 1;
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`${err.name === 'MoveLedgerError' ? '' : `${err.name}: `}${err.message}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
