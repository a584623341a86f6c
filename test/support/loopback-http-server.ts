/** Moved to local/loopback-http-server.ts (shared with `npm start`); re-exported for the tests. */
export * from '../../local/loopback-http-server';
