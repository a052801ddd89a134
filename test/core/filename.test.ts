import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeExtension, sanitizeFilename } from '../../src/core/filename.js';

/** True when the string holds no lone UTF-16 surrogate (it would not survive UTF-8 encoding). */
function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

describe('sanitizeFilename', () => {
  it('keeps an ordinary name as is', () => {
    assert.equal(
      sanitizeFilename('Annual report 2024 (final).pdf'),
      'Annual report 2024 (final).pdf',
    );
  });

  const cases: [string, string][] = [
    ['../../etc/passwd', 'passwd'],
    ['/var/www/index.html', 'index.html'],
    ['..\\..\\windows\\system.ini', 'system.ini'],
    ['C:\\Users\\me\\photo.jpg', 'photo.jpg'],
    ['mixed/dirs\\and/more\\file.txt', 'file.txt'],
    ['in\r\nvoice.pdf', 'invoice.pdf'],
    ['a\u0000b.txt', 'ab.txt'],
    ['tab\there\u001b[31m.txt', 'tabhere[31m.txt'],
    ['del\u007f and c1\u0085\u009f.txt', 'del and c1.txt'],
    ['a"b<c>d:e|f?g*h.txt', 'abcdefgh.txt'],
    ['.htaccess', 'htaccess'],
    ['...hidden.txt', 'hidden.txt'],
    [' . .x.txt', 'x.txt'],
    ['\u0000.env', 'env'],
    ['  padded.txt  ', 'padded.txt'],
    ['inner.dots..kept.txt', 'inner.dots..kept.txt'],
  ];
  for (const [input, expected] of cases) {
    it(`turns ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => {
      assert.equal(sanitizeFilename(input), expected);
    });
  }

  it('returns null when nothing usable is left', () => {
    for (const input of [
      undefined,
      null,
      '',
      '/',
      'dir/',
      'a\\',
      '...',
      ' . ',
      '"<>:|?*',
      '\r\n\u0000',
    ]) {
      assert.equal(sanitizeFilename(input), null, JSON.stringify(input));
    }
  });

  it('removes bidirectional overrides that would disguise the extension', () => {
    assert.equal(sanitizeFilename('invoice\u202Efdp.exe'), 'invoicefdp.exe');
    assert.equal(sanitizeFilename('a\u2066b\u2069\u200Fc.txt'), 'abc.txt');
  });

  it('normalizes to NFC so the same name always compares equal', () => {
    const decomposed = 'Cafe\u0301.txt';
    assert.equal(sanitizeFilename(decomposed), 'Caf\u00e9.txt');
    assert.equal(sanitizeFilename(decomposed), sanitizeFilename('Caf\u00e9.txt'));
  });

  it('leaves a name of exactly 255 characters untouched', () => {
    const name = `${'a'.repeat(251)}.pdf`;
    assert.equal(sanitizeFilename(name), name);
  });

  it('truncates a long name to 255 characters, keeping the extension', () => {
    const result = sanitizeFilename(`${'b'.repeat(300)}.pdf`);
    assert.equal(result, `${'b'.repeat(251)}.pdf`);
  });

  it('truncates a long name without a usable extension to its first 255 characters', () => {
    assert.equal(sanitizeFilename('c'.repeat(300)), 'c'.repeat(255));
    assert.equal(sanitizeFilename(`${'d'.repeat(300)}.we!rd`), 'd'.repeat(255));
  });

  it('measures the length after removing junk, not before', () => {
    const name = `${'\u0000'.repeat(100)}${'e'.repeat(200)}.png`;
    assert.equal(sanitizeFilename(name), `${'e'.repeat(200)}.png`);
  });

  it('does not cut a character outside the BMP in half when truncating', () => {
    const result = sanitizeFilename(`${'😀'.repeat(200)}.png`);
    assert.ok(result !== null);
    assert.ok(result.length <= 255, `length ${result.length}`);
    assert.ok(result.endsWith('.png'));
    assert.ok(isWellFormed(result), `lone surrogate in ${JSON.stringify(result.slice(-8))}`);
  });

  it('renames Windows device names, whatever their case and extension', () => {
    const cases: [string, string][] = [
      ['CON.png', '_CON.png'],
      ['nul', '_nul'],
      ['COM1.png', '_COM1.png'],
      ['lpt9.txt', '_lpt9.txt'],
      ['AUX', '_AUX'],
      ['aux.tar.gz', '_aux.tar.gz'],
      ['Prn .txt', '_Prn .txt'],
      ['com\u00b9.txt', '_com\u00b9.txt'],
      ['CONIN$', '_CONIN$'],
      ['dir/conout$.log', '_conout$.log'],
    ];
    for (const [input, expected] of cases) {
      assert.equal(sanitizeFilename(input), expected, JSON.stringify(input));
    }
  });

  it('keeps names that only start like a device name', () => {
    for (const name of [
      'console.png',
      'CON-1.png',
      'com10.txt',
      'lpt.txt',
      'nullable',
      'auxiliary',
    ]) {
      assert.equal(sanitizeFilename(name), name);
    }
  });

  it('keeps a renamed long device name within 255 characters', () => {
    const result = sanitizeFilename(`CON.${'x'.repeat(300)}`);
    assert.ok(result !== null);
    assert.ok(result.startsWith('_CON.'), result);
    assert.ok(result.length <= 255, `length ${result.length}`);
  });
});

describe('safeExtension', () => {
  const cases: [string | null | undefined, string][] = [
    ['photo.JPG', '.jpg'],
    ['archive.tar.gz', '.gz'],
    ['dir/file.txt', '.txt'],
    ['video.mp4', '.mp4'],
    ['a.abcdefghij', '.abcdefghij'],
    ['a.abcdefghijk', ''],
    ['a.p-f', ''],
    ['a.p_f', ''],
    ['a.pd f', ''],
    ['a.ünï', ''],
    ['a.', ''],
    ['README', ''],
    ['.htaccess', ''],
    ['dir.d/file', ''],
    ['', ''],
    [null, ''],
    [undefined, ''],
  ];
  for (const [input, expected] of cases) {
    it(`gives ${JSON.stringify(expected)} for ${JSON.stringify(input)}`, () => {
      assert.equal(safeExtension(input), expected);
    });
  }
});
