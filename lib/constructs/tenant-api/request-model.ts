import type * as apigw from 'aws-cdk-lib/aws-apigateway';

/**
 * Converts a JSON Schema (draft 4, as zod emits it) into the CDK `JsonSchema` shape: `$schema` and `$ref`
 * become `schema` and `ref`; every other keyword has the same name.
 */
export function toCdkJsonSchema(schema: Record<string, unknown>): apigw.JsonSchema {
  const convert = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(convert);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      const key = k === '$schema' ? 'schema' : k === '$ref' ? 'ref' : k;
      // `properties`' keys are field names, not keywords.
      out[key] =
        k === 'properties'
          ? Object.fromEntries(Object.entries(val as object).map(([f, s]) => [f, convert(s)]))
          : convert(val);
    }
    return out;
  };
  return convert(schema) as apigw.JsonSchema;
}
