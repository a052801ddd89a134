import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { InvalidFileIdError } from '../../src/core/errors/index.js';
import { fileIdMadeSince, fileIdTime, isNewFileId, newFileId } from '../../src/core/index.js';
import { assertSafeFileId, RESERVED_TEMP_DIR } from '../../src/storage/index.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newFileId', () => {
  it('makes version 7 UUIDs carrying the time they were made, with a short extension', () => {
    const before = Date.now();
    const id = newFileId('.PNG');
    const after = Date.now();
    assert.match(id, /\.png$/);
    assert.match(id.slice(0, -4), V7);
    const time = fileIdTime(id)!;
    assert.ok(time >= before && time <= after, `${time} within ${before}..${after}`);
    assert.match(newFileId('.not-an-extension!'), V7);
    assert.match(newFileId(''), V7);
    const at = Date.UTC(2031, 4, 6, 7, 8, 9, 123);
    assert.equal(fileIdTime(newFileId('.pdf', at)), at);
  });

  it('sorts ids in the order they were made, within a millisecond too, and never repeats one', () => {
    const made = Array.from({ length: 5000 }, () => newFileId('.bin'));
    assert.deepEqual([...made].sort(), made);
    assert.equal(new Set(made).size, made.length);
    const start = Date.UTC(2030, 0, 1);
    const spaced = [0, 1, 2, 1000, 86_400_000].map((ms) => newFileId('', start + ms));
    assert.deepEqual([...spaced].sort(), spaced);
    assert.deepEqual(
      spaced.map((id) => fileIdTime(id)! - start),
      [0, 1, 2, 1000, 86_400_000],
    );
  });

  it('accepts its ids and those of version 4 made by earlier releases; only v7 tell a time', () => {
    const v7 = newFileId('.png');
    const v4 = `${randomUUID()}.png`;
    for (const id of [v7, v4, randomUUID(), newFileId('')]) assert.ok(isNewFileId(id), id);
    assert.equal(fileIdTime(v4), undefined);
    assert.equal(fileIdTime(`photo/7/image/${v4}`), undefined);
    assert.equal(fileIdTime(`photo/7/image/${v7}`), fileIdTime(v7));
    for (const foreign of ['notes.txt', `${v7}.toolongextension`, v7.toUpperCase(), `x${v7}`]) {
      assert.ok(!isNewFileId(foreign), foreign);
      assert.equal(fileIdTime(foreign), undefined, foreign);
    }
    // Version 7 in the version digit, but not the RFC variant: not a v7 UUID.
    assert.equal(fileIdTime(`${v7.slice(0, 19)}c${v7.slice(20)}`), undefined);
  });

  it('tells, without parsing, whether a name was made since a time, as fileIdTime does', () => {
    const at = Date.UTC(2030, 5, 1, 12);
    const names = [0, 1, 255, 256, 4096, 65_536, 86_400_000].map((ms) =>
      newFileId('.png', at + ms),
    );
    for (const name of names) {
      const time = fileIdTime(name)!;
      for (const since of [time - 65_536, time - 1, time - 0.5, time, time + 0.5, time + 1]) {
        assert.equal(fileIdMadeSince(since)(name), time >= since, `${name} since ${since}`);
      }
    }
    const v4 = `${randomUUID()}.png`;
    for (const other of [v4, 'notes.txt', 'ffffffff-ffff-zzzz', `${names[0]}/x`]) {
      assert.equal(fileIdMadeSince(0)(other), false, other);
    }
    assert.equal(fileIdMadeSince(-1)(names[0]!), true);
    assert.equal(fileIdMadeSince(2 ** 48)(newFileId('', 2 ** 48 - 1)), false);
  });

  it('refuses a time a UUIDv7 cannot carry', () => {
    for (const at of [-1, 2 ** 48, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => newFileId('.png', at), RangeError);
    }
  });
});

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
