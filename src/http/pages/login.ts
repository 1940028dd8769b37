/** The login UI routes until the bundled frontend lands (wire §3.1 allows a plain page). */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const NO_PROVIDER_PAGE = '<html><body><h1>No authentication provider is available</h1></body></html>';

export const UI_NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Calimero Authentication</title></head>
<body><h1>Login UI not built yet</h1>
<p>This mero-auth build has no bundled login page. Obtain tokens with <code>POST /auth/token</code>.</p>
</body></html>
`;
