import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidFileUrlError } from '../../src/index.js';
import {
  signDerivativeUrl,
  signFileUrl,
  verifyDerivativeUrl,
  type DerivativeUrlGrant,
} from '../../src/core/index.js';

const SECRET = 's'.repeat(32);

const grant: DerivativeUrlGrant = {
  entity: 'Poster',
  attachment: 'image',
  name: 'thumb',
  record: '{"id":7}',
  storage: 'store',
  file: 'poster/7/image/a.png',
};

const refused = (message: RegExp) => (error: unknown) =>
  error instanceof InvalidFileUrlError && message.test(error.message);

describe('signed on-demand derivative URLs', () => {
  it('verifies its own signature, without expiry or with the seconds left', () => {
    assert.equal(verifyDerivativeUrl(grant, signDerivativeUrl(grant, SECRET), SECRET), null);
    const now = 1_000_000;
    const expiring = { ...grant, expires: now + 90_500 };
    assert.equal(
      verifyDerivativeUrl(expiring, signDerivativeUrl(expiring, SECRET), SECRET, now),
      90,
    );
  });

  it('refuses a URL with any field changed', () => {
    const signature = signDerivativeUrl(grant, SECRET);
    const changes: Partial<DerivativeUrlGrant>[] = [
      { entity: 'Cover' },
      { attachment: 'avatar' },
      { name: 'large' },
      { record: '{"id":8}' },
      { storage: 'cache' },
      { file: 'poster/7/image/b.png' },
      { expires: Date.now() + 60_000 },
      // A boundary moved between two fields signs other text.
      { entity: 'Poster","image', attachment: '' },
    ];
    for (const change of changes) {
      assert.throws(
        () => verifyDerivativeUrl({ ...grant, ...change }, signature, SECRET),
        refused(/does not match/),
        JSON.stringify(change),
      );
    }
    assert.throws(() => verifyDerivativeUrl(grant, signature, 'o'.repeat(32)), refused(/match/));
    assert.throws(() => verifyDerivativeUrl(grant, `${signature}A`, SECRET), refused(/match/));
    assert.throws(() => verifyDerivativeUrl(grant, undefined, SECRET), refused(/not signed/));
    assert.throws(() => verifyDerivativeUrl(grant, '', SECRET), refused(/not signed/));
  });

  it('refuses an expired URL, and an expiry that is not a whole number', () => {
    const now = 1_000_000;
    const expired = { ...grant, expires: now };
    const signature = signDerivativeUrl(expired, SECRET);
    assert.throws(() => verifyDerivativeUrl(expired, signature, SECRET, now), refused(/expired/));
    const unreadable = { ...grant, expires: Number.NaN };
    assert.throws(
      () => verifyDerivativeUrl(unreadable, signDerivativeUrl(unreadable, SECRET), SECRET),
      refused(/unreadable/),
    );
  });

  it('is never the signature of a file URL for the same file', () => {
    const expires = Date.now() + 60_000;
    const file = signFileUrl({ storage: grant.storage, id: grant.file, expires }, SECRET);
    assert.throws(() => verifyDerivativeUrl({ ...grant, expires }, file, SECRET), refused(/match/));
  });
});
