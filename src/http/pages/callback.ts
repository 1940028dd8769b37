/** `GET /auth/callback` (wire §3.5): explains where sign-in happens; never fabricates tokens. */
const DEFAULT_CALLBACK = 'http://127.0.0.1:9080/callback';

export function acceptedCallback(raw: string | undefined): string {
  if (raw === undefined || !URL.canParse(raw)) return DEFAULT_CALLBACK;
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return DEFAULT_CALLBACK;
  return url.href;
}

/** A JSON string literal that is safe inside HTML and a script: no raw <, >, &, U+2028/9. */
export function safeJsonString(s: string): string {
  return JSON.stringify(s)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function callbackPage(rawCallback: string | undefined): string {
  const callback = acceptedCallback(rawCallback);
  const loginHref = `/auth/login?callback-url=${encodeURIComponent(callback)}`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Calimero Authentication</title></head>
<body>
<h1>Calimero Authentication</h1>
<p>Sign-in happens on the login page of this node. After you sign in there, the login page sends
your tokens to the application that asked for them.</p>
<p><a href="${loginHref}">Continue to the login page</a></p>
<script type="application/json" id="callback-url">${safeJsonString(callback)}</script>
</body>
</html>
`;
}
