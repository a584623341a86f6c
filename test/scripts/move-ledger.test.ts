/**
 * `npm run tenant:move-ledger` on dynalite: a silo ledger and a pool cell's ledger holding other tenants' items,
 * the registry for the suspension check, the real SDK with the endpoint from AWS_ENDPOINT_URL_DYNAMODB.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ledgerDocumentClient } from '../../lambda/shared/dynamo';
import { admissionKey } from '../../lambda/shared/dynamo-admission';
import { poolPartitionKey } from '../../lambda/shared/pool-keys';
import { tenantKey } from '../../lambda/shared/registry-schema';
import {
  type MoveLedgerEnv,
  MoveLedgerError,
  type MoveLedgerReport,
  POOL_ONLY_SILO_KEYS,
  run,
} from '../../scripts/move-ledger';
import { createRegistryTable } from '../lambda/control-plane/registry-harness';
import { DynaliteServer } from '../support/dynalite-server';
import {
  countsByTenant,
  createLedgerTable,
  type Item,
  pooled,
  putItems,
  scanAll,
  siloLedgerItems,
  sorted,
} from '../support/ledger-table';

const server = new DynaliteServer();
let env: NodeJS.ProcessEnv;
const REGISTRY = 'registry';
beforeAll(async () => {
  await server.start();
  env = {
    AWS_ACCESS_KEY_ID: 'AKIDOPERATOR',
    AWS_SECRET_ACCESS_KEY: 'operator-secret',
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
  };
  await createRegistryTable(server.dynamo, REGISTRY);
  for (const [tenantId, status] of [
    ['acme', 'suspended'],
    ['hooli', 'suspended'],
    ['busy-co', 'active'],
  ] as const) {
    await ledgerDocumentClient(server.dynamo).send(
      new PutCommand({
        TableName: REGISTRY,
        Item: { ...tenantKey(tenantId), tenantId, status, isolation: 'pool', cell: 'pool-1' },
      }),
    );
  }
});
afterAll(async () => {
  await server.stop();
});

let n = 0;
/** A silo table and a cell table; the cell already holds two other tenants' items (acme-eu looks like acme). */
async function tables() {
  const silo = `silo-ledger-${++n}`;
  const cell = `pool-1-ledger-${n}`;
  await createLedgerTable(server.dynamo, silo);
  await createLedgerTable(server.dynamo, cell);
  const others = [
    ...pooled('globex', siloLedgerItems('globex', 12)),
    ...pooled('acme-eu', siloLedgerItems('acme-eu', 5)),
  ];
  await putItems(server.dynamo, cell, others);
  return { silo, cell, others };
}

const world = (pageSize = 7): MoveLedgerEnv => ({ env, pageSize });
async function move(args: string[], pageSize?: number): Promise<MoveLedgerReport> {
  const r = await run(args, world(pageSize));
  if (r === 'help') throw new Error('help');
  return r;
}
const args = (tenant: string, direction: string, from: string, to: string, ...more: string[]) => [
  '--tenant',
  tenant,
  '--direction',
  direction,
  '--from-table',
  from,
  '--to-table',
  to,
  '--registry-table',
  REGISTRY,
  ...more,
];
const counts = (r: MoveLedgerReport) => ({
  sourceItems: r.sourceItems,
  skipped: r.skipped,
  copied: r.copied,
  alreadyThere: r.alreadyThere,
  conflicts: r.conflicts,
  verified: r.verified,
  deleted: r.deleted,
  ok: r.ok,
});
const ofTenant = (items: Item[], tenant: string) => items.filter((i) => i.pk?.S?.startsWith(`T#${tenant}#`));

describe('tenant:move-ledger', () => {
  it('silo to pool: every item under T#<id>#, review index partition too, other tenants untouched; a rerun copies nothing twice', async () => {
    const { silo, cell, others } = await tables();
    const items = siloLedgerItems('acme', 40);
    await putItems(server.dynamo, silo, items);
    const first = await move(args('acme', 'silo-to-pool', silo, cell));
    const all = items.length;
    expect(counts(first)).toEqual({
      sourceItems: all,
      skipped: 0,
      copied: all,
      alreadyThere: 0,
      conflicts: 0,
      verified: all,
      deleted: 0,
      ok: true,
    });
    expect(first.lines).toEqual([
      `Ledger of tenant acme, silo-to-pool: ${silo} → ${cell} (pooled keys under T#acme#)`,
      'registry: acme is suspended (isolation pool, cell pool-1)',
      `source: ${all} item(s) of acme in ${silo}`,
      `copied: ${all}; already there (identical): 0`,
      `verified: ${all} of ${all} copies in ${cell} identical to their source`,
      `source kept in ${silo} (--delete-source deletes it after a verified copy)`,
    ]);
    const after = await scanAll(server.dynamo, cell);
    expect(sorted(ofTenant(after, 'acme'))).toEqual(sorted(pooled('acme', items)));
    expect(
      ofTenant(after, 'acme')
        .filter((i) => i.gsi1pk)
        .map((i) => i.gsi1pk!.S),
    ).toEqual(expect.arrayContaining(['T#acme#REVIEWS#decided', 'T#acme#HANDOFF#pending']));
    expect(sorted(after.filter((i) => !i.pk!.S!.startsWith('T#acme#')))).toEqual(sorted(others));
    expect(countsByTenant(after)).toEqual({ acme: all, 'acme-eu': 5 + 3, globex: 12 + 3 });
    expect(sorted(await scanAll(server.dynamo, silo))).toEqual(sorted(items));

    const rerun = await move(args('acme', 'silo-to-pool', silo, cell), 100);
    expect(counts(rerun)).toMatchObject({ copied: 0, alreadyThere: all, verified: all, ok: true });
    expect(await scanAll(server.dynamo, cell)).toHaveLength(after.length);

    const deleting = await move(args('acme', 'silo-to-pool', silo, cell, '--delete-source'));
    expect(counts(deleting)).toMatchObject({ copied: 0, alreadyThere: all, verified: all, deleted: all, ok: true });
    expect(deleting.lines.at(-1)).toBe(`deleted from ${silo}: ${all} source item(s)`);
    expect(await scanAll(server.dynamo, silo)).toEqual([]);
    expect(sorted(await scanAll(server.dynamo, cell))).toEqual(sorted(after));
  });

  it('pool to silo: only the tenant items, prefix stripped, admission windows left; --delete-source deletes only its copied items', async () => {
    const { silo, cell, others } = await tables();
    const items = siloLedgerItems('hooli', 25);
    const window = {
      pk: { S: poolPartitionKey('hooli', 'ADMIT') },
      sk: { S: 'rate#2026-12-02T16:00:00' },
      count: { N: '3' },
    };
    await putItems(server.dynamo, cell, [...pooled('hooli', items), window]);
    const first = await move(args('hooli', 'pool-to-silo', cell, silo, '--delete-source'), 5);
    expect(counts(first)).toEqual({
      sourceItems: items.length + 1,
      skipped: 1,
      copied: items.length,
      alreadyThere: 0,
      conflicts: 0,
      verified: items.length,
      deleted: items.length,
      ok: true,
    });
    expect(first.lines[2]).toMatch(/; 1 pool admission window\(s\) \(T#hooli#ADMIT\) not copied/);
    expect(sorted(await scanAll(server.dynamo, silo))).toEqual(sorted(items));
    // The cell keeps the other tenants' items as they were, and the tenant's admission window (it expires).
    expect(sorted(await scanAll(server.dynamo, cell))).toEqual(sorted([...others, window]));
    const rerun = await move(args('hooli', 'pool-to-silo', cell, silo));
    expect(counts(rerun)).toMatchObject({ sourceItems: 1, skipped: 1, copied: 0, verified: 0, ok: true });
    expect(sorted(await scanAll(server.dynamo, silo))).toEqual(sorted(items));
  });

  it('never overwrites: an item already there with other values is a conflict, and nothing is deleted', async () => {
    const { silo, cell } = await tables();
    const items = siloLedgerItems('acme', 6);
    await putItems(server.dynamo, silo, items);
    const usage = pooled('acme', items).find((i) => i.pk!.S === 'T#acme#USAGE#2026-12')!;
    const changed = { ...usage, committed: { N: '1' } };
    await server.dynamo.send(new PutItemCommand({ TableName: cell, Item: changed }));
    const r = await move(args('acme', 'silo-to-pool', silo, cell, '--delete-source'));
    expect(counts(r)).toEqual({
      sourceItems: items.length,
      skipped: 0,
      copied: items.length - 1,
      alreadyThere: 0,
      conflicts: 1,
      verified: items.length - 1,
      deleted: 0,
      ok: false,
    });
    expect(r.lines).toContain(
      `conflicts: 1 item(s) already in ${cell} with other values, left as they are (never overwritten): T#acme#USAGE#2026-12 / TOTAL`,
    );
    expect(r.lines.slice(-2)).toEqual([
      `source kept: nothing deleted from ${silo}, since the copy is not verified`,
      expect.stringMatching(/^NOT VERIFIED: .*a rerun copies nothing twice/),
    ]);
    expect(ofTenant(await scanAll(server.dynamo, cell), 'acme').find((i) => i.sk!.S === 'TOTAL')).toEqual(changed);
    expect(await scanAll(server.dynamo, silo)).toHaveLength(items.length);
  });

  it('refuses before writing: not suspended, unknown tenant, swapped tables, a key outside the prefix, bad arguments', async () => {
    const { silo, cell } = await tables();
    await putItems(server.dynamo, silo, siloLedgerItems('acme', 3));
    await putItems(server.dynamo, cell, [
      { pk: { S: 'T#hooli#REQ#x' }, sk: { S: 'REQUEST' }, gsi1pk: { S: 'REVIEWS#pending' }, gsi1sk: { S: 'x' } },
    ]);
    const otherSilo = `other-silo-ledger-${n}`;
    await createLedgerTable(server.dynamo, otherSilo);
    await putItems(server.dynamo, otherSilo, siloLedgerItems('initech', 1));
    const otherCell = `pool-2-ledger-${n}`;
    await createLedgerTable(server.dynamo, otherCell);
    await putItems(server.dynamo, otherCell, pooled('umbrella', siloLedgerItems('umbrella', 1)));
    const waitingSilo = `waiting-silo-ledger-${n}`;
    await createLedgerTable(server.dynamo, waitingSilo);
    await putItems(server.dynamo, waitingSilo, [
      ...siloLedgerItems('acme', 2),
      { pk: { S: 'REV#rev_acme_2' }, sk: { S: 'REVIEW' }, status: { S: 'pending' }, tokenCiphertext: { S: 'AQID' } },
    ]);
    const before = [await scanAll(server.dynamo, silo), await scanAll(server.dynamo, cell)];
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [
        args('busy-co', 'silo-to-pool', silo, cell),
        env,
        /^busy-co is active in registry: suspend it first \(PATCH \/v1\/tenants\/busy-co \{"suspend": true\}\)/,
      ],
      [args('nobody', 'silo-to-pool', silo, cell), env, /^nobody: no such tenant in registry/],
      [
        args('acme', 'silo-to-pool', cell, silo),
        env,
        /holds 24 pooled item\(s\) .*it is a pool cell's ledger, not acme's silo ledger; check --from-table and --direction/,
      ],
      [args('acme', 'pool-to-silo', cell, `no-such-table-${n}`), env, /^a table does not exist/],
      [
        args('acme', 'silo-to-pool', waitingSilo, cell),
        env,
        /^1 review\(s\) of acme wait for a decision \(REV#rev_acme_2 \/ REVIEW\): their workflow runs in the source's state machine .* Decide them \(or let them expire\) first/,
      ],
      [args('acme', 'silo-to-pool', silo, otherSilo), env, /holds silo items .*check --to-table and --direction/],
      [args('acme', 'pool-to-silo', cell, otherCell), env, /holds pooled items .*check --to-table and --direction/],
      [args('hooli', 'pool-to-silo', cell, silo), env, /gsi1pk "REVIEWS#pending" is not under T#hooli#; not copied/],
      [
        args('Acme!', 'sideways', silo, silo),
        env,
        /--tenant: got "Acme!".*\n--direction: got "sideways"; must be silo-to-pool or pool-to-silo\n--from-table and --to-table are the same table/,
      ],
      [['--tenant', 'acme'], env, /^missing --direction, --from-table, --to-table\nusage: /],
      [[...args('acme', 'silo-to-pool', silo, cell), '--force'], env, /^unexpected "--force"/],
      [args('acme', 'silo-to-pool', silo, cell), { AWS_REGION: 'eu-west-1' }, /^No AWS credentials in the environment/],
    ];
    for (const [argv, e, message] of cases) {
      const err = await run(argv, { env: e }).catch((x) => x);
      expect(err).toBeInstanceOf(MoveLedgerError);
      expect(err.message).toMatch(message);
    }
    expect([await scanAll(server.dynamo, silo), await scanAll(server.dynamo, cell)]).toEqual(before);
    expect(await run(['--help'], { env })).toBe('help');
  });

  it("keeps the pool-only keys in step with the admission counter's", () => {
    const window = { key: 'rate#x', limit: 1, endsAtMs: 0 } as Parameters<typeof admissionKey>[1];
    expect(admissionKey('acme', window).pk).toBe(poolPartitionKey('acme', POOL_ONLY_SILO_KEYS[0]));
  });

  it('as a command: counts on stdout and exit 0; a refusal on stderr with exit 1', async () => {
    const { silo, cell } = await tables();
    await putItems(server.dynamo, silo, siloLedgerItems('acme', 4));
    const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    const script = path.join(__dirname, '..', '..', 'scripts', 'move-ledger.ts');
    const exec = (a: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(tsx, [script, ...a], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const ok = await exec(args('acme', 'silo-to-pool', silo, cell));
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(
      /\ncopied: 7; already there \(identical\): 0\nverified: 7 of 7 copies in pool-1-ledger-\d+ identical to their source\n/,
    );
    expect(countsByTenant(await scanAll(server.dynamo, cell))).toMatchObject({ acme: 7 });
    const refused = await exec(args('busy-co', 'silo-to-pool', silo, cell));
    expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^busy-co is active in registry: suspend it first/);
    const help = await exec(['--help']);
    expect(help.stdout).toMatch(/The tenant must be suspended during the copy/);
  });
});
