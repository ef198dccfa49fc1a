// Removes secrets from anything about to be logged: by key name at any depth, by shape inside any string
// (Bearer headers, token query parameters, JSON-looking token fields), and by value for secrets the process knows.

export const REDACTED = '[REDACTED]';

const SECRET_KEY = /^(authorization|proxy-authorization|cookie|set-cookie|password|passwd|code_verifier|codeverifier|api[-_]?key|.*token.*|.*secret.*)$/i;
/** OAuth authorization codes are secrets; error codes (ECONNREFUSED, 23505, ER_LOCK) are not. */
const ERROR_CODE = /^[A-Z0-9][A-Z0-9_.-]*$/;

const STRING_PATTERNS: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/([?&#](?:code|[a-z_]*token|[a-z_]*secret|code_verifier)=)[^&\s"'<>]+/gi, `$1${REDACTED}`],
  [/(["']?(?:access_token|refresh_token|id_token|client_secret|code_verifier|accessToken|refreshToken)["']?\s*[:=]\s*["']?)[^"'&\s,}]+/g, `$1${REDACTED}`],
];

const MAX_KNOWN = 10_000;
const known = new Set<string>();

/** Tells the redactor about a secret value (a token just issued, a configured secret) so it is removed anywhere. */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < 8) return;
  if (known.size >= MAX_KNOWN) {
    const oldest = known.values().next().value;
    if (oldest !== undefined) known.delete(oldest);
  }
  known.add(value);
}

export function redactString(input: string): string {
  let out = input;
  for (const [pattern, replacement] of STRING_PATTERNS) out = out.replace(pattern, replacement);
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

function isSecretKey(key: string, value: unknown): boolean {
  if (key.toLowerCase() === 'code') return typeof value === 'string' && !ERROR_CODE.test(value);
  return SECRET_KEY.test(key) && value !== null && value !== undefined && typeof value !== 'boolean';
}

/** Returns a copy of `value` with secrets removed; cycles and very deep nesting are cut. */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 12) return '[Truncated]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  const entries = Object.entries(value as Record<string, unknown>);
  if (value instanceof Error) {
    entries.push(['message', value.message], ['stack', value.stack]);
    if (value.cause !== undefined) entries.push(['cause', value.cause]);
  }
  for (const [key, v] of entries) {
    out[key] = isSecretKey(key, v) ? REDACTED : redactValue(v, depth + 1, seen);
  }
  return out;
}

/** Redacts one serialized JSON log line (what pino is about to write). */
export function redactLine(line: string): string {
  const trimmed = line.endsWith('\n') ? line.slice(0, -1) : line;
  try {
    return `${JSON.stringify(redactValue(JSON.parse(trimmed)))}\n`;
  } catch {
    return `${redactString(trimmed)}\n`;
  }
}
