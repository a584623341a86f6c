/** Moved to local/dynalite-server.ts (shared with `npm start`); re-exported for the tests. */
export * from '../../local/dynalite-server';
