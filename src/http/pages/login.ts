/**
 * The login UI's own policy (wire §3.1), sent on `/auth/login`, `/auth/assets/*` and
 * `/auth/favicon.ico` instead of the configured CSP: the page handles the operator's password
 * and admin tokens, so no inline script or style and no eval.
 */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const NO_PROVIDER_PAGE = '<html><body><h1>No authentication provider is available</h1></body></html>';

/** Served when the bundle is missing (a source checkout before `npm run build`; wire §3.1). */
export const UI_NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Calimero Authentication</title></head>
<body><h1>Login UI not built yet</h1>
<p>This mero-auth installation has no bundled login page: run <code>npm run build</code>, which builds it
into <code>dist/frontend</code>. Meanwhile, tokens can be obtained with <code>POST /auth/token</code>.</p>
</body></html>
`;
