/** Moved to local/bedrock-stub.ts (shared with `npm start`); re-exported for the tests. */
export * from '../../local/bedrock-stub';
