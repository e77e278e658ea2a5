/**
 * Removes tokens and secrets from text before it leaves the process as telemetry or a log line: bearer tokens and
 * JWTs, storage account keys and SAS signatures, connection-string secrets, client secrets and passwords, and
 * Authorization headers. What is left keeps its shape (`AccountKey=[redacted]`), so a message still reads.
 *
 * A blunt list by design: an error message from an SDK or a hostile request body may carry anything, and a false
 * positive costs a few characters of a log line while a miss leaks a credential.
 */

const REDACTED = "[redacted]";

const PATTERNS: readonly [RegExp, string][] = [
  // JSON Web Tokens (Entra access tokens, ID tokens): three base64url parts, the first a JSON header.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // Authorization headers and bearer/basic/SharedAccessSignature credentials, whatever the token looks like.
  [/\b(authorization["']?\s*[:=]\s*["']?)[^"'\s,;}]+(\s+[^"'\s,;}]+)?/gi, `$1${REDACTED}`],
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // Connection-string and query-string secrets: AccountKey=, SharedAccessKey=, sig=, client_secret=, password=, ...
  [
    /\b(AccountKey|SharedAccessKey|SharedAccessSignature|sig|client_secret|clientSecret|client_assertion|password|pwd|secret|access_token|refresh_token|id_token|apikey|api[-_]key|x-functions-key|InstrumentationKey)(["']?\s*[=:]\s*["']?)[^"'\s&;,}]+/gi,
    `$1$2${REDACTED}`,
  ],
  // PEM private keys.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[^]*?-----END [A-Z ]*PRIVATE KEY-----/g, `-----BEGIN PRIVATE KEY-----${REDACTED}-----END PRIVATE KEY-----`],
];

/** `text` with every token or secret replaced by [redacted]. */
export function redactSecrets(text: string): string {
  let result = text;
  for (const [pattern, replacement] of PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

/** Attribute values with strings (and string arrays) redacted; other values as they are. */
export function redactAttributes<T extends Readonly<Record<string, unknown>>>(attributes: T): T {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === "string") result[key] = redactSecrets(value);
    else if (Array.isArray(value)) result[key] = value.map((item) => (typeof item === "string" ? redactSecrets(item) : item));
    else result[key] = value;
  }
  return result as T;
}
