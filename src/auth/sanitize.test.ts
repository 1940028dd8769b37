import { describe, expect, it } from 'vitest';
import { escapeHtml, sanitizeIdentifier, sanitizeString } from './sanitize.js';

describe('sanitizeString (wire §8.3)', () => {
  it.each([
    ["Hello\0World\n<script>alert('xss')</script>", "HelloWorld<script>alert('xss')</script>"],
    ['José', 'Jos'],
    ['a\tb', 'ab'],
    ['a\r\nb', 'ab'],
    ['a\x7Fb', 'ab'], // DEL
    ['a\x1Fb\x01', 'ab'],
    ['\u0085next-line\u00A0nbsp', 'next-linenbsp'], // C1 control and NBSP are non-ASCII
    ['hi 😀 there', 'hi  there'], // a surrogate pair goes as a whole
    ['x\uD800y\uDC00z', 'xyz'], // lone surrogates too
    [' !~ ', ' !~ '], // the printable range's ends, space included
    ['http://localhost:2428/auth/login?x=1#y', 'http://localhost:2428/auth/login?x=1#y'],
    ['', ''],
    ['日本語', ''],
  ])('%j → %j', (input, out) => {
    expect(sanitizeString(input)).toBe(out);
  });
});

describe('sanitizeIdentifier (wire §8.3)', () => {
  it.each([
    ['user-name123!@#$%^&*()', 'user-name123'],
    ['héllo_1', 'héllo_1'],
    ['ctx 1.2', 'ctx12'],
    ['user_password', 'user_password'],
    ['a\0b\tc\nd\x7Fe', 'abcde'],
    ['日本語_テスト', '日本語_テスト'], // letters from any script
    ['Ωμέγα', 'Ωμέγα'],
    ['٣²Ⅻ', '٣²Ⅻ'], // Nd (Arabic-Indic three), No (superscript two), Nl (Roman twelve)
    ['ok😀👍🏽ok', 'okok'], // emoji, including a modifier, are symbols
    ['x\uD800y', 'xy'],
    ['e\u0301', 'e'], // a combining accent is a mark, not a letter
    ['a.b/c:d', 'abcd'],
    ['--__--', '--__--'],
    ['', ''],
  ])('%j → %j', (input, out) => {
    expect(sanitizeIdentifier(input)).toBe(out);
  });
});

describe('escapeHtml (wire §8.3)', () => {
  it.each([
    ["<script>alert('xss')</script>", '&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;'],
    ['a & b', 'a &amp; b'],
    ['&lt;', '&amp;lt;'], // already-escaped text is escaped once more, never left ambiguous
    ['"quoted"', '&quot;quoted&quot;'],
    ['admin:*', 'admin:*'],
    ['😀<', '😀&lt;'],
    ['', ''],
  ])('%j → %j', (input, out) => {
    expect(escapeHtml(input)).toBe(out);
  });

  it('escapes each character exactly once', () => {
    expect(escapeHtml('&<>"\'')).toBe('&amp;&lt;&gt;&quot;&#x27;');
  });
});
