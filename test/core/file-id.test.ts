import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidFileIdError } from '../../src/core/errors/index.js';
import { assertSafeFileId, RESERVED_TEMP_DIR } from '../../src/storage/index.js';

describe('assertSafeFileId', () => {
  const accepted = [
    'a',
    'a/b/c.txt',
    'with space.txt',
    'ünïcödé/файл.txt',
    '.hidden',
    '..a',
    'a..',
    '...',
    'a/.uploading',
    '.uploadingx/y',
    'ab:c',
    'x'.repeat(1024),
  ];
  for (const id of accepted) {
    it(`accepts ${JSON.stringify(id.slice(0, 40))}`, () => {
      assert.doesNotThrow(() => assertSafeFileId(id));
    });
  }

  const rejected: [string, RegExp][] = [
    ['', /empty/],
    ['x'.repeat(1025), /longer than 1024/],
    ['a\u0000b', /control character/],
    ['a\nb', /control character/],
    ['a\u001fb', /control character/],
    ['a\u007fb', /control character/],
    ['a\\b', /backslash/],
    ['..\\x', /backslash/],
    ['/etc/passwd', /absolute/],
    ['C:foo', /drive/],
    ['c:/x', /drive/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['.', /"\." segment/],
    ['..', /"\.\." segment/],
    ['../x', /"\.\." segment/],
    ['a/./b', /"\." segment/],
    ['a/../../x', /"\.\." segment/],
    ['a/..', /"\.\." segment/],
    [RESERVED_TEMP_DIR, /reserved/],
    [`${RESERVED_TEMP_DIR}/x`, /reserved/],
  ];
  for (const [id, reason] of rejected) {
    it(`rejects ${JSON.stringify(id.slice(0, 40))}`, () => {
      assert.throws(
        () => assertSafeFileId(id),
        (error) => {
          assert.ok(error instanceof InvalidFileIdError);
          assert.equal(error.id, id);
          assert.match(error.message, reason);
          return true;
        },
      );
    });
  }
});
