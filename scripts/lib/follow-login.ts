// Walks the login as a browser would: GET auth /login, then every redirect (through Spotify's or the simulator's
// /authorize) back to auth's /callback, keeping auth's cookies between the hops. Returns the final page.
export async function followLogin(authUrl: string): Promise<{ status: number; body: string }> {
  const authHost = new URL(authUrl).host;
  const cookies = new Map<string, string>();
  let url = new URL('/login', authUrl).toString();
  for (let hop = 0; hop < 10; hop += 1) {
    const sameHost = new URL(url).host === authHost;
    const headers: Record<string, string> = {};
    if (sameHost && cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers });
    if (sameHost) {
      for (const cookie of response.headers.getSetCookie()) {
        const [pair = ''] = cookie.split(';');
        const eq = pair.indexOf('=');
        if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
      }
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      return { status: response.status, body: await response.text() };
    }
    await response.body?.cancel();
    url = new URL(location, url).toString();
  }
  throw new Error('the login redirected more than 10 times');
}
