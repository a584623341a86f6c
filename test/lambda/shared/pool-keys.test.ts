import {
  POOL_ENCRYPTION_CONTEXT_VALUE,
  POOL_LEADING_KEYS_PATTERN,
  poolPartitionKey,
  poolTenantPrefix,
  tenantOfPoolKey,
} from '../../../lambda/shared/pool-keys';

describe('pooled key layout', () => {
  it('puts T#<tenant># before the silo key, and reads the tenant back', () => {
    expect(poolPartitionKey('acme', 'REQ#r1')).toBe('T#acme#REQ#r1');
    expect(tenantOfPoolKey('T#acme-eu#USAGE#2026-12')).toBe('acme-eu');
    expect(tenantOfPoolKey('REQ#r1')).toBeUndefined();
    expect(tenantOfPoolKey('T#acme')).toBeUndefined();
    expect(tenantOfPoolKey('T#A*#x')).toBeUndefined();
  });

  it('refuses what is not a tenant id (no #, no wildcard, no upper case) instead of writing a key with it', () => {
    for (const bad of ['', 'ac', 'acme#globex', 'acme*', 'ACME', 'a'.repeat(33)]) {
      expect(() => poolTenantPrefix(bad)).toThrow(/Not a tenant id/);
    }
  });

  it('names the session tag in the IAM patterns', () => {
    expect(POOL_LEADING_KEYS_PATTERN).toBe(`T#\${aws:PrincipalTag/switchboard:tenant}#*`);
    expect(POOL_ENCRYPTION_CONTEXT_VALUE).toBe(`\${aws:PrincipalTag/switchboard:tenant}`);
  });
});
