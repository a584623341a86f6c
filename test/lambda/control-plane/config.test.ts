import * as fs from 'node:fs';
import * as path from 'node:path';
import { poolCellsFrom } from '../../../lambda/control-plane/config';
import { validateTenantDocument } from '../../../lambda/shared/tenant-file/tenant-document';
import { parseTenantFile } from '../../../lib/config/load-tenants';

describe('POOL_CELLS', () => {
  it('reads cells and capacities in placement order', () => {
    expect(poolCellsFrom('[{"id":"pool-1","capacity":500},{"id":"pool-2","capacity":20}]')).toEqual([
      { id: 'pool-1', capacity: 500 },
      { id: 'pool-2', capacity: 20 },
    ]);
  });

  it('reads the full entries (API, stage, ledger, tenant-access role) and keeps entries without them valid', () => {
    const full = {
      id: 'pool-1',
      capacity: 500,
      restApiId: 'a1b2c3d4e5',
      stage: 'prod',
      ledgerTable: 'Switchboard-Pool-1-Ledger-1A2B3C',
      tenantAccessRoleArn: 'arn:aws:iam::123456789012:role/Switchboard-Pool-1-TenantAccess-XYZ',
    };
    expect(poolCellsFrom(JSON.stringify([full, { id: 'pool-2', capacity: 20 }]))).toEqual([
      full,
      { id: 'pool-2', capacity: 20 },
    ]);
  });

  it.each([
    [undefined, /not JSON/],
    ['[{"id":"pool-1","capacity":5,"restApiId":"abc"}]', /restApiId and stage come together/],
    ['[{"id":"pool-1","capacity":5,"restApiId":"A/B","stage":"prod"}]', /entry 0: restApiId must match/],
    ['[{"id":"pool-1","capacity":5,"tenantAccessRoleArn":"*"}]', /entry 0: tenantAccessRoleArn must match/],
    ['[{"id":"pool-1","capacity":5,"ledgerTable":5}]', /entry 0: ledgerTable must match/],
    ['[{"id":"pool-1","capacity":5,"restapi":"x"}]', /unknown field\(s\) restapi/],
    ['[]', /non-empty array/],
    ['[{"id":"pool-1","capacity":0}]', /entry 0/],
    ['[{"id":"Pool 1","capacity":5}]', /entry 0/],
    ['[{"id":"p","capacity":5},{"id":"p","capacity":5}]', /listed twice/],
  ])('refuses %p at init, naming the variable', (text, why) => {
    expect(() => poolCellsFrom(text)).toThrow(why);
    expect(() => poolCellsFrom(text)).toThrow(/^POOL_CELLS: /);
  });
});

describe('isolation', () => {
  const doc = (extra: object) => ({ id: 'iso-co', escalation: { reviewerEmails: ['r@iso.example.com'] }, ...extra });
  it('defaults from the plan: basic → pool, standard and premium → silo; a file may choose', () => {
    expect(validateTenantDocument(doc({ plan: 'basic' })).tenant?.isolation).toBe('pool');
    expect(validateTenantDocument(doc({ plan: 'standard' })).tenant?.isolation).toBe('silo');
    expect(validateTenantDocument(doc({ plan: 'premium' })).tenant?.isolation).toBe('silo');
    expect(validateTenantDocument(doc({ plan: 'basic', isolation: 'silo' })).tenant?.isolation).toBe('silo');
    expect(validateTenantDocument(doc({ plan: 'premium', isolation: 'pool' })).tenant?.isolation).toBe('pool');
    expect(parseTenantFile('iso-co.yaml', 'id: iso-co\nplan: basic\nisolation: shared\n').problems).toEqual([
      'iso-co.yaml: isolation: got "shared"; allowed: "pool" | "silo"',
    ]);
  });

  it('says what offboarding does with the data: retain (default) or delete, refusing anything else', () => {
    expect(validateTenantDocument(doc({ plan: 'basic' })).tenant?.offboarding).toEqual({ data: 'retain' });
    expect(validateTenantDocument(doc({ plan: 'basic', offboarding: { data: 'delete' } })).tenant?.offboarding).toEqual(
      {
        data: 'delete',
      },
    );
    expect(parseTenantFile('iso-co.yaml', 'id: iso-co\nplan: basic\noffboarding:\n  data: shred\n').problems).toEqual([
      'iso-co.yaml: offboarding.data: got "shred"; allowed: "retain" | "delete"',
    ]);
  });

  it('keeps the basic sample tenant a silo, as it is deployed today, by saying so', () => {
    const file = path.join(__dirname, '..', '..', '..', 'tenants', 'initech.yaml');
    const r = parseTenantFile('initech.yaml', fs.readFileSync(file, 'utf8'));
    expect([r.tenant?.plan, r.tenant?.isolation]).toEqual(['basic', 'silo']);
  });
});

describe('lambda code', () => {
  it('never imports lib/ (the tenant file schema it needs is in lambda/shared/tenant-file)', () => {
    const root = path.join(__dirname, '..', '..', '..', 'lambda');
    const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const offenders = files.filter((f) => /from '(\.\.\/)+lib\//.test(fs.readFileSync(path.join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
