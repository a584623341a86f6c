/** The JSON Schema of tenant files, generated from the zod schema (for editors validating tenants/*.yaml). */
import * as z from 'zod';
import { TenantFileSchema } from './tenant-schema';

/** Where the committed JSON Schema lives (the tenant files point at it). */
export const TENANT_JSON_SCHEMA_PATH = 'lib/config/tenant.schema.json';

/** Renders the JSON Schema text (stable, newline-terminated). */
export function tenantJsonSchemaText(): string {
  const schema = z.toJSONSchema(TenantFileSchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return `${JSON.stringify(
    {
      ...schema,
      $id: 'https://switchboard.example/schemas/tenant.schema.json',
      title: 'Switchboard tenant file',
      description: 'tenants/<id>.yaml: only id and plan are required; every other field defaults from the plan.',
    },
    null,
    2,
  )}\n`;
}
