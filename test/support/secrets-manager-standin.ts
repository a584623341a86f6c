/** Moved to local/secrets-manager-standin.ts (shared with `npm start`); re-exported for the tests. */
export * from '../../local/secrets-manager-standin';
