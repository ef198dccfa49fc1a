// The Redis key under which the auth service caches a user's (encrypted) access token. A service never imports
// another service, and auth keeps its key builder in services/auth/src/keys.ts, so the format is matched here:
// `${QUEUE_PREFIX}:auth:token:${encodeURIComponent(userId)}`. The api test checks it against a key auth wrote.
export function cachedTokenKey(queuePrefix: string, userId: string): string {
  return `${queuePrefix}:auth:token:${encodeURIComponent(userId)}`;
}
