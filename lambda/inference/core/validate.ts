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

/** The parts of an HTTP request the validator looks at. */
export interface RawHttpBody {
  readonly contentType: string | undefined;
  readonly body: string | null | undefined;
  readonly isBase64Encoded?: boolean;
}

/** Parses and validates a `POST /v1/inference` body. */
export function parseInferenceBody(raw: RawHttpBody): InferenceRequest {
  const mediaType = raw.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new ApiError(
      'unsupported_media_type',
      `Content-Type must be application/json (got ${raw.contentType ? `"${raw.contentType}"` : 'none'})`,
    );
  }
  const text = raw.isBase64Encoded ? Buffer.from(raw.body ?? '', 'base64').toString('utf8') : (raw.body ?? '');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > API_LIMITS.maxBodyBytes) {
    throw new ApiError(
      'payload_too_large',
      `Request body is ${bytes} bytes; the limit is ${API_LIMITS.maxBodyBytes} bytes`,
    );
  }
  if (text.trim() === '') throw new ApiError('invalid_json', 'Request body is empty; send a JSON object');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ApiError('invalid_json', `Request body is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ApiError('invalid_request', 'Request body must be a JSON object');
  }
  const parsed = InferenceRequestSchema.safeParse(json);
  const problems = [
    ...metadataKeyProblems(json),
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`)),
  ];
  if (!parsed.success || problems.length) {
    throw new ApiError('invalid_request', `Invalid request body: ${problems.join('; ')}`);
  }
  const { metadata } = parsed.data;
  return metadata ? { ...parsed.data, metadata: nullPrototypeMap(metadata) } : parsed.data;
}
