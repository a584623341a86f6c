/**
 * A crash between any two registry writes (the function dies: the write is not made, nothing after it runs)
 * leaves nothing usable half-made: no key the caller never received works, at most one key per tenant works,
 * and a retry or a rotation repairs what is left.
 */
import type { RegistryPort } from '../../../lambda/control-plane/core/ports';
import { registerSiloTenant } from '../../../lambda/control-plane/core/silo-registration';
import { pooled, type RegistryHarness, registryServer } from './registry-harness';

const WRITES: ReadonlyArray<keyof RegistryPort> = [
  'putNewTenant',
  'replaceTenant',
  'putNewKey',
  'setKeyStatus',
  'reserveCellPlace',
  'releaseCellPlace',
  'appendAudit',
  'putEvidence',
];

/** The registry, dying before its write number `crashAt` (0-based); `writes` records the writes made. */
function crashing(registry: RegistryPort, crashAt: number, writes: string[]): RegistryPort {
  return new Proxy(registry, {
    get(target, prop: keyof RegistryPort) {
      const f = target[prop] as (...a: unknown[]) => Promise<unknown>;
      if (!WRITES.includes(prop)) return f;
      return (...args: unknown[]) => {
        if (writes.length === crashAt) throw new Error(`crash before ${String(prop)}`);
        writes.push(String(prop));
        return f(...args);
      };
    },
  });
}

const server = registryServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

/** Keys of the table's key items that the authorizer would accept. */
async function usableKeys(h: RegistryHarness): Promise<string[]> {
  const out: string[] = [];
  for (const k of h.issuedKeys) if (await h.usable(k)) out.push(k);
  return out;
}

/** Runs `action` crashing at every write in turn (until it completes), checking `after` each time. */
async function everyCrashPoint(
  setup: (h: RegistryHarness) => Promise<void>,
  action: (h: RegistryHarness, r: RegistryPort) => Promise<{ status: number }>,
  after: (h: RegistryHarness, crashAt: number, writes: string[]) => Promise<void>,
): Promise<string[]> {
  for (let crashAt = 0; ; crashAt++) {
    const h = await server.harness();
    await setup(h);
    const writes: string[] = [];
    const res = await action(h, crashing(h.registry, crashAt, writes));
    if (res.status < 500) return writes;
    expect(res.status).toBe(500);
    await after(h, crashAt, writes);
  }
}

describe('crash points', () => {
  it('onboarding: no key works until the last write; a retry or a rotation recovers', async () => {
    const writes = await everyCrashPoint(
      async () => {},
      (h, r) => h.call({ method: 'POST', path: '/v1/tenants', body: pooled('crash-co') }, r),
      async (h, _crashAt, made) => {
        expect(await usableKeys(h)).toEqual([]);
        const retry = await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('crash-co') });
        if (made.includes('putNewTenant')) {
          expect(retry.body.error.code).toBe('tenant_exists');
          const rotated = await h.call({ method: 'PATCH', path: '/v1/tenants/crash-co', body: { rotateKey: true } });
          expect(await usableKeys(h)).toEqual([rotated.body.apiKey]);
        } else {
          expect(retry.status).toBe(201);
          expect(await usableKeys(h)).toEqual([retry.body.apiKey]);
        }
      },
    );
    expect(writes).toEqual(['reserveCellPlace', 'putNewKey', 'putNewTenant', 'appendAudit', 'setKeyStatus']);
  });

  it('rotation: the new key never works before the last write; the old one stops once the tenant names the new', async () => {
    let old = '';
    const writes = await everyCrashPoint(
      async (h) => {
        old = (await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('rot-co') })).body.apiKey;
      },
      (h, r) => h.call({ method: 'PATCH', path: '/v1/tenants/rot-co', body: { rotateKey: true } }, r),
      async (h, _crashAt, made) => {
        const fresh = h.issuedKeys.at(-1)!;
        expect(await h.usable(fresh)).toBe(false);
        expect(await usableKeys(h)).toEqual(made.includes('replaceTenant') ? [] : [old]);
        const retry = await h.call({ method: 'PATCH', path: '/v1/tenants/rot-co', body: { rotateKey: true } });
        expect(await usableKeys(h)).toEqual([retry.body.apiKey]);
      },
    );
    expect(writes).toEqual(['putNewKey', 'replaceTenant', 'setKeyStatus', 'appendAudit', 'setKeyStatus']);
  });

  it('offboarding: the key stops at the first write; a retried DELETE finishes with its evidence', async () => {
    const writes = await everyCrashPoint(
      async (h) => {
        await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('off-co') });
      },
      (h, r) => h.call({ method: 'DELETE', path: '/v1/tenants/off-co' }, r),
      async (h, crashAt, made) => {
        expect(await usableKeys(h)).toHaveLength(crashAt === 0 ? 1 : 0);
        const retry = await h.call({ method: 'DELETE', path: '/v1/tenants/off-co' });
        if (made.includes('putEvidence')) {
          expect(retry.body.error.code).toBe('tenant_deleted');
        } else {
          expect(retry.status).toBe(200);
          expect(retry.body.evidence.counts.activeApiKeys.after).toBe(0);
        }
        expect(await usableKeys(h)).toEqual([]);
        expect((await h.scan()).filter((i) => String(i.pk).startsWith('EVIDENCE#'))).toHaveLength(1);
        expect((await h.registry.listAudit('off-co')).map((a) => a.action)).toContain('delete');
      },
    );
    expect(writes).toEqual([
      'setKeyStatus',
      'replaceTenant',
      'appendAudit',
      'replaceTenant',
      'putEvidence',
      'releaseCellPlace',
    ]);
  });

  const siloDoc = (id: string) => ({ ...pooled(id), plan: 'standard', isolation: 'silo' });
  const cellCount = async (h: RegistryHarness) => (await h.scan()).find((i) => i.pk === 'CELL#pool-1')?.tenants ?? 0;

  it('moving to the pool: the new key never works before the last write; a retry or a rotation recovers', async () => {
    const move = (h: RegistryHarness, r?: RegistryPort) =>
      h.call({ method: 'POST', path: '/v1/tenants/mv-co/move', body: { to: 'pool', activate: true } }, r);
    const writes = await everyCrashPoint(
      async (h) => {
        await registerSiloTenant(h.deps(), 'mv-co', siloDoc('mv-co'), 'test');
      },
      move,
      async (h, _crashAt, made) => {
        expect(await usableKeys(h)).toEqual([]);
        const retry = await move(h);
        if (made.includes('replaceTenant')) {
          expect(retry.body.error.code).toBe('already_pooled');
          const rotated = await h.call({ method: 'PATCH', path: '/v1/tenants/mv-co', body: { rotateKey: true } });
          expect(await usableKeys(h)).toEqual([rotated.body.apiKey]);
        } else {
          expect(retry.status).toBe(200);
          expect(await usableKeys(h)).toEqual([retry.body.apiKey]);
        }
        // At most one place too many (a crash after the reservation), never too few.
        expect([1, 2]).toContain(await cellCount(h));
      },
    );
    expect(writes).toEqual(['reserveCellPlace', 'putNewKey', 'replaceTenant', 'appendAudit', 'setKeyStatus']);
  });

  it('moving to a silo (registration Create): the pooled key stops at the first write; a retried Create ends a silo', async () => {
    let key = '';
    const create = async (h: RegistryHarness, r: RegistryPort = h.registry) => {
      try {
        await registerSiloTenant({ ...h.deps(), registry: r }, 'cv-co', siloDoc('cv-co'), 'test');
        return { status: 200 };
      } catch {
        return { status: 500 };
      }
    };
    const writes = await everyCrashPoint(
      async (h) => {
        key = (await h.call({ method: 'POST', path: '/v1/tenants', body: pooled('cv-co') })).body.apiKey;
      },
      create,
      async (h, crashAt, made) => {
        expect(await usableKeys(h)).toEqual(crashAt === 0 ? [key] : []);
        expect((await create(h)).status).toBe(200);
        expect(await usableKeys(h)).toEqual([]);
        expect(await h.registry.getTenant('cv-co')).toMatchObject({ isolation: 'silo', cell: 'silo' });
        // A crash after the tenant became a silo leaves its cell counting it (the worst a crash leaves).
        expect(await cellCount(h)).toBe(made.includes('replaceTenant') ? 1 : 0);
      },
    );
    expect(writes).toEqual(['replaceTenant', 'setKeyStatus', 'appendAudit', 'releaseCellPlace']);
  });
});
