import { MAX_TENANT_TAGS, RESERVED_TAG_KEYS } from '../../../lib/config/tags';
import { TENANT_TAGS } from '../../../lib/stacks/tenant-stack';

describe('tag rules', () => {
  it('reserve every tag key the tenant stacks set, and the coming backup tag', () => {
    expect(RESERVED_TAG_KEYS).toEqual(expect.arrayContaining([...Object.values(TENANT_TAGS), 'switchboard:backup']));
  });

  it('leave a tenant what AWS allows per resource minus the tags Switchboard sets itself', () => {
    expect(MAX_TENANT_TAGS).toBe(50 - RESERVED_TAG_KEYS.length);
  });
});
