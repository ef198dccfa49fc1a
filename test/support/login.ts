// The real login flow, as a browser runs it: GET auth /login, then every redirect through the simulator's /authorize
// back to auth's /callback, with auth's cookies kept between the hops.

/** Follows the login redirects from `authUrl`; throws unless the flow ends without an error status. */
export async function loginThroughAuth(authUrl: string, simUserId: string): Promise<void> {
  const cookies = new Map<string, string>();
  let url = new URL('/login', authUrl).toString();
  let last: Response | undefined;
  for (let hop = 0; hop < 10; hop += 1) {
    const sameHost = new URL(url).host === new URL(authUrl).host;
    const headers: Record<string, string> = {};
    if (sameHost && cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    last = await fetch(url, { redirect: 'manual', headers });
    if (sameHost) {
      for (const c of last.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair?.indexOf('=') ?? -1;
        if (pair && eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
    }
    const location = last.headers.get('location');
    if (last.status < 300 || last.status >= 400 || !location) break;
    url = new URL(location, url).toString();
  }
  if (!last || last.status >= 400) {
    throw new Error(`login of ${simUserId} ended with ${last?.status}: ${await last?.text()}`);
  }
}
