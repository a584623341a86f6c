/**
 * The idle cost of a pooled tenant is the storage of its registry items: the model's items are checked here
 * against the items the control plane really writes when it onboards a tenant (handler, DynamoDB adapter, dynalite).
 */

import { validateTenantDocument } from '../../../lambda/shared/tenant-file/tenant-document';
import { dynamoItemBytes, pooledRegistryFootprint } from '../../../lib/capacity/footprint';
import { CALLER, pooled, type RegistryHarness, registryServer } from '../../lambda/control-plane/registry-harness';

const server = registryServer();
let h: RegistryHarness;
beforeAll(async () => {
  await server.start();
  h = await server.harness();
});
afterAll(() => server.stop());

describe('pooled tenant registry footprint', () => {
  it.each([
    ['a tenant of the plan defaults', pooled('fp-plain')],
    [
      'a tenant with more reviewers and its own limits',
      pooled('fp-larger', {
        escalation: { reviewerEmails: Array.from({ length: 8 }, (_, i) => `r${i}@fp-larger.example.com`) },
        throttle: { rateLimit: 2, burstLimit: 4 },
      }),
    ],
  ])('sizes the items the control plane writes for %s, byte for byte', async (_, document) => {
    const res = await h.call({ method: 'POST', path: '/v1/tenants', body: document });
    expect(res.status).toBe(201);
    const id = document.id;
    const written = (await h.scan()).filter(
      (i) => [`TENANT#${id}`, `AUDIT#${id}`].includes(i.pk as string) || (i.sk === 'KEY' && i.tenantId === id),
    );
    const bytesOf = (pk: string) =>
      written.filter((i) => (i.pk as string).startsWith(pk)).map((i) => dynamoItemBytes(i) + 100);
    const config = validateTenantDocument(document).tenant!;
    const model = pooledRegistryFootprint(config, { document: { ...document, isolation: 'pool' }, who: CALLER });
    expect(model.items.map((i) => [i.item, i.bytes])).toEqual([
      ['tenant item', bytesOf('TENANT#')[0]],
      ['API key item', bytesOf('KEY#')[0]],
      ['audit entry (creation)', bytesOf('AUDIT#')[0]],
    ]);
    expect(written).toHaveLength(3);
  });
});
