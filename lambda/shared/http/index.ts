/** The HTTP layer the API handlers share: router, error envelope, body parsing, zod problem text. */
export { parseJsonObjectBody, type RawHttpBody, rawBodyOf } from './body';
export { errorResponse, internalError, json } from './envelope';
export { makeRoutedHandler, type RoutedHandlerSpec } from './handler';
export { zodProblems } from './problems';
export { checkRoute, dispatch, header, type Routes } from './router';
