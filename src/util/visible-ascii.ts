// Visible ASCII as wire §2.3 and the http crate define a header value: space through `~`, and tab.
const VISIBLE_ASCII = /^[\x20-\x7e\t]*$/;

/** Whether a header value is one Rust's `HeaderValue::to_str` accepts (wire §2.3). */
export function isVisibleAscii(value: string): boolean {
  return VISIBLE_ASCII.test(value);
}
