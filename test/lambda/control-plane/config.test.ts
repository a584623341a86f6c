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

  it.each([
    [undefined, /not JSON/],
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
