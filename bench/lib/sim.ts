// The simulator's side of the benchmark: an access token per simulated user through the real authorization code
// flow (as auth would get one), and each user's newest 50 plays as the Web API answers them.
export const SIM_CLIENT_ID = 'playledger-sim-client';
export const SIM_CLIENT_SECRET = 'playledger-sim-secret';
const REDIRECT_URI = 'http://127.0.0.1/callback';

/** Logs in the next simulated user that never authorized and returns its access token. */
export async function simAccessToken(simUrl: string): Promise<string> {
  const authorize = new URL('/authorize', simUrl);
  authorize.search = new URLSearchParams({
    client_id: SIM_CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'user-read-recently-played',
    state: 'bench',
  }).toString();
  const consent = await fetch(authorize, { redirect: 'manual' });
  const location = consent.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error(`the simulator gave no code: ${consent.status} ${location ?? (await consent.text())}`);
  const token = await fetch(new URL('/api/token', simUrl), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${SIM_CLIENT_ID}:${SIM_CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }).toString(),
  });
  const body = (await token.json()) as { access_token?: string };
  if (!token.ok || !body.access_token)
    throw new Error(`token exchange failed: ${token.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** GET /v1/me/player/recently-played?limit=50: the raw items, newest first. */
export async function simRecentlyPlayed(simUrl: string, accessToken: string): Promise<unknown[]> {
  const response = await fetch(new URL('/v1/me/player/recently-played?limit=50', simUrl), {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  if (!response.ok) throw new Error(`recently-played answered ${response.status}: ${await response.text()}`);
  const page = (await response.json()) as { items: unknown[] };
  return page.items;
}

/** What the extractor does to an item before publishing it: drop available_markets of the track and its album. */
export function slimItem(item: unknown): unknown {
  if (!isObject(item) || !isObject(item.track)) return item;
  const { available_markets: _trackMarkets, ...track } = item.track;
  if (isObject(track.album)) {
    const { available_markets: _albumMarkets, ...album } = track.album;
    track.album = album;
  }
  return { ...item, track };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
