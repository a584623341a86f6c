import * as fs from 'node:fs';
import * as path from 'node:path';
import { TENANT_JSON_SCHEMA_PATH, tenantJsonSchemaText } from '../../../lib/config/json-schema';

describe('tenant JSON Schema', () => {
  it('is committed and matches the zod schema (run `npm run schema:tenant` after changing it)', () => {
    const committed = fs.readFileSync(path.join(__dirname, '..', '..', '..', TENANT_JSON_SCHEMA_PATH), 'utf8');
    expect(committed).toBe(tenantJsonSchemaText());
  });

  it('requires id and plan, lists the plans and rejects unknown fields', () => {
    const schema = JSON.parse(tenantJsonSchemaText());
    expect(schema.required).toEqual(['id', 'plan']);
    expect(schema.properties.plan.enum).toEqual(['basic', 'standard', 'premium']);
    expect(schema.additionalProperties).toBe(false);
  });

  it('is referenced by every example tenant file', () => {
    const dir = path.join(__dirname, '..', '..', '..', 'tenants');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      expect(fs.readFileSync(path.join(dir, f), 'utf8')).toContain('$schema=../lib/config/tenant.schema.json');
    }
  });
});
