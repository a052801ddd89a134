import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ExpiredTokenError, InvalidTokenError } from '../../src/index.js';
import {
  assertSafeFileId,
  looksLikeSignedFileId,
  newFileId,
  ownerDigest,
  readSignedFileId,
  signFileId,
  storedFileId,
  verifySignedFileId,
} from '../../src/core/index.js';

const SECRET = 'test-secret-0123456789-0123456789';
const NOW = Date.UTC(2030, 0, 1);
const options = { secret: SECRET, storage: 'cache', maxLength: 1000 };

describe('signed file ids (the key a direct upload reports carries the signed claim)', () => {
  const basename = newFileId('.png');
  const claim = {
    expiresAt: NOW + 60_000,
    filename: 'Été à la mer.png',
    owner: ownerDigest('alice', SECRET),
    entity: 'Photo',
    attachment: 'image',
  };

  it('round-trips the claim, is a safe id, and promotes under its basename alone', () => {
    const id = signFileId(basename, claim, options);
    assert.ok(looksLikeSignedFileId(id));
    assert.ok(id.endsWith(`/${basename}`));
    assertSafeFileId(id);
    assert.deepEqual(verifySignedFileId(id, SECRET, 'cache', NOW), claim);
    const file = {
      id,
      storage: 'cache',
      metadata: { filename: null, size: 1, mimeType: 'image/png' },
    };
    const context = { entityName: 'photo', recordId: '7', attachment: 'image', file };
    assert.equal(storedFileId('record', context), `photo/7/image/${basename}`);
    assert.equal(storedFileId('flat', context), basename);
  });

  it('refuses a forged, tampered, moved or foreign-storage id, and an expired one', () => {
    const id = signFileId(basename, claim, options);
    const [signed] = id.split('/') as [string];
    const forged = signFileId(basename, claim, { ...options, secret: 'another-secret-0123456789' });
    assert.throws(() => readSignedFileId(forged, SECRET, 'cache'), InvalidTokenError);
    const body = signed.split('.')[1]!;
    const bigger = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), x: NOW * 2 }),
    ).toString('base64url');
    assert.throws(
      () => readSignedFileId(id.replace(body, bigger), SECRET, 'cache'),
      /signature does not match/,
    );
    assert.throws(
      () => readSignedFileId(`${signed}/${newFileId('.png')}`, SECRET, 'cache'),
      /signature does not match/,
      'a claim does not move to another file',
    );
    assert.throws(() => readSignedFileId(id, SECRET, 'other'), InvalidTokenError);
    for (const bad of ['', basename, `x/${id}`, `${id}/x`, 42, null]) {
      assert.throws(() => readSignedFileId(bad, SECRET, 'cache'), /malformed signed key/);
    }
    assert.throws(
      () => verifySignedFileId(id, SECRET, 'cache', claim.expiresAt),
      ExpiredTokenError,
    );
    assert.deepEqual(readSignedFileId(id, SECRET, 'cache'), claim, 'read ignores expiry');
  });

  it('signs basenames of version 7 (made now) and of version 4 (made by earlier releases)', () => {
    assert.equal(basename[14], '7');
    for (const name of [basename, `${randomUUID()}.png`]) {
      const id = signFileId(name, claim, options);
      assert.ok(id.endsWith(`/${name}`));
      assert.deepEqual(verifySignedFileId(id, SECRET, 'cache', NOW), claim);
    }
  });

  it('shortens a long filename, keeping its extension, to fit the key', () => {
    const long = `${'長'.repeat(250)}.jpeg`;
    const id = signFileId(basename, { ...claim, filename: long }, { ...options, maxLength: 500 });
    assert.ok(id.length <= 500);
    const kept = readSignedFileId(id, SECRET, 'cache').filename!;
    assert.ok(kept.endsWith('.jpeg') && kept.startsWith('長') && kept.length < long.length);
    assert.throws(
      () => signFileId(basename, claim, { ...options, maxLength: 100 }),
      /only 100 fit in the key/,
    );
  });

  it('keeps the owner out of the id: a keyed digest, distinct per owner', () => {
    const id = signFileId(basename, claim, options);
    assert.ok(!Buffer.from(id.split('.')[1]!, 'base64url').toString().includes('alice'));
    assert.notEqual(ownerDigest('alice', SECRET), ownerDigest('bob', SECRET));
    assert.notEqual(ownerDigest('alice', SECRET), ownerDigest('alice', `${SECRET}x`));
  });
});
