// Registered apps (client id, secret, redirect URIs) and the redirect-URI rule.

export interface App {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Development-mode app: available_markets and popularity are left out of tracks and albums. */
  devMode: boolean;
}

export const DEFAULT_APP: App = {
  clientId: 'playledger-sim-client',
  clientSecret: 'playledger-sim-secret',
  redirectUris: ['http://127.0.0.1:8081/callback', 'http://localhost:8081/callback', 'http://127.0.0.1/callback'],
  devMode: false,
};

const LOOPBACK = new Set(['127.0.0.1', '[::1]']);

/** Exact match, except that a registered loopback URI without a port matches any port (RFC 8252 section 7.3). */
export function redirectUriAllowed(app: App, uri: string): boolean {
  if (app.redirectUris.includes(uri)) return true;
  let asked: URL;
  try {
    asked = new URL(uri);
  } catch {
    return false;
  }
  if (!LOOPBACK.has(asked.hostname) || asked.protocol !== 'http:') return false;
  return app.redirectUris.some((registered) => {
    let r: URL;
    try {
      r = new URL(registered);
    } catch {
      return false;
    }
    return (
      r.port === '' &&
      r.protocol === 'http:' &&
      r.hostname === asked.hostname &&
      r.pathname === asked.pathname &&
      r.search === asked.search &&
      !registered.includes(`${r.hostname}:`)
    );
  });
}
