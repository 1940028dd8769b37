/** The configured Content-Security-Policy value (wire-contract §2.5). */
export interface CspSources {
  default_src: readonly string[];
  script_src: readonly string[];
  style_src: readonly string[];
  connect_src: readonly string[];
}

/** `default-src <list>; script-src <list>; style-src <list>; connect-src <list>;` */
export function buildCsp(csp: CspSources): string {
  return (
    `default-src ${csp.default_src.join(' ')}; ` +
    `script-src ${csp.script_src.join(' ')}; ` +
    `style-src ${csp.style_src.join(' ')}; ` +
    `connect-src ${csp.connect_src.join(' ')};`
  );
}
