/** `npm run schema:tenant`: regenerates lib/config/tenant.schema.json from the zod schema. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TENANT_JSON_SCHEMA_PATH, tenantJsonSchemaText } from '../lib/config/json-schema';

const file = path.join(__dirname, '..', TENANT_JSON_SCHEMA_PATH);
fs.writeFileSync(file, tenantJsonSchemaText());
console.log(`wrote ${TENANT_JSON_SCHEMA_PATH}`);
