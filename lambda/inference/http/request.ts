/**
 * Turns a raw HTTP body into a validated inference request, or a 4xx `ApiError` that names what is wrong.
 * Pure: nothing here writes or calls a model, so a rejected request changes nothing.
 */
import {
  API_LIMITS,
  type InferenceRequest,
  InferenceRequestSchema,
  metadataKeyProblems,
  nullPrototypeMap,
} from '../../shared/api-schema';
import { ApiError } from '../../shared/errors';
import { parseJsonObjectBody, type RawHttpBody, zodProblems } from '../../shared/http';

export type { RawHttpBody } from '../../shared/http';

/** Parses and validates a `POST /v1/inference` body. */
export function parseInferenceBody(raw: RawHttpBody): InferenceRequest {
  const json = parseJsonObjectBody(raw, API_LIMITS.maxBodyBytes);
  const parsed = InferenceRequestSchema.safeParse(json);
  const problems = [...metadataKeyProblems(json), ...(parsed.success ? [] : zodProblems(parsed.error.issues))];
  if (!parsed.success || problems.length) {
    throw new ApiError('invalid_request', `Invalid request body: ${problems.join('; ')}`);
  }
  const { metadata } = parsed.data;
  return metadata ? { ...parsed.data, metadata: nullPrototypeMap(metadata) } : parsed.data;
}
