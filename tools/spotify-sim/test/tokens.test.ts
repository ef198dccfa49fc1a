import { describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TTL_MS, CODE_TTL_MS, REFRESH_TOKEN_LIFETIME_MS, TokenStore } from '../src/tokens.ts';

describe('token lifetimes (store with a fake clock)', () => {
  it('a code expires after 10 minutes, an access token after an hour, a refresh token after six months', () => {
    let now = 1_000_000;
    const store = new TokenStore(() => now);
    const code = store.issueCode({
      clientId: 'c',
      userId: 'u',
      redirectUri: 'http://127.0.0.1/cb',
      scope: 's',
      codeChallenge: null,
    });
    const { refreshToken } = store.createGrant('u', 'c', 's', false);
    const access = store.issueAccess('u', 'c', 's');
    now += CODE_TTL_MS - 1;
    expect(store.codeExpired(code)).toBe(false);
    now += 1;
    expect(store.codeExpired(code)).toBe(true);
    now = 1_000_000 + ACCESS_TOKEN_TTL_MS - 1;
    expect(store.access(access.token)).toBeDefined();
    now += 1;
    expect(store.access(access.token)).toBeUndefined();
    now = 1_000_000 + REFRESH_TOKEN_LIFETIME_MS - 1;
    expect(store.checkRefresh(refreshToken).ok).toBe(true);
    // refreshing never extends it
    now += 1;
    expect(store.checkRefresh(refreshToken)).toEqual({ ok: false, reason: 'expired' });
  });
});
