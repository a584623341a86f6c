/** Moved to local/sigv4-check.ts (shared with `npm start`); re-exported for the tests. */
export * from '../../local/sigv4-check';
