/** Moved to local/apigateway-standin.ts (shared with `npm start`); re-exported for the tests. */
export * from '../../local/apigateway-standin';
