import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { ExpiredTokenError, InvalidTokenError } from '../../src/index.js';
import {
  signUploadToken,
  verifyUploadToken,
  type UploadTokenPayload,
} from '../../src/core/index.js';

const SECRET = 'test-secret-0123456789';
const NOW = Date.UTC(2030, 0, 1);
const payload: UploadTokenPayload = {
  storage: 'cache',
  id: '2030/01/abc.png',
  expiresAt: NOW + 60_000,
};

/** Signs any body the way the library does, so shape checks can be reached past the HMAC. */
function signRawBody(body: string, secret = SECRET): string {
  const mac = createHmac('sha256', secret).update(`v1.${body}`).digest('base64url');
  return `v1.${body}.${mac}`;
}

function signRawJson(value: unknown): string {
  return signRawBody(Buffer.from(JSON.stringify(value)).toString('base64url'));
}

/** A base64url character other than `c`; flipping the low bit keeps it inside the alphabet. */
function otherChar(c: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return alphabet[alphabet.indexOf(c) ^ 1]!;
}

function replaceAt(s: string, index: number, c: string): string {
  return s.slice(0, index) + c + s.slice(index + 1);
}

function assertInvalid(token: unknown, reason: RegExp, secret = SECRET): void {
  assert.throws(
    () => verifyUploadToken(token, secret, NOW),
    (error: unknown) => {
      assert.ok(error instanceof InvalidTokenError, `expected InvalidTokenError, got ${error}`);
      assert.equal(error.code, 'invalid_token');
      assert.match(error.message, /^Invalid upload token: /);
      assert.match(error.message, reason);
      return true;
    },
  );
}

describe('signUploadToken / verifyUploadToken', () => {
  it('round-trips the payload', () => {
    const token = signUploadToken(payload, SECRET);
    assert.match(token, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(verifyUploadToken(token, SECRET, NOW), payload);
  });

  it('defaults `now` to the current time', () => {
    const fresh = { ...payload, expiresAt: Date.now() + 60_000 };
    assert.deepEqual(verifyUploadToken(signUploadToken(fresh, SECRET), SECRET), fresh);
  });

  it('carries owner, sha256 and a non-ASCII filename unchanged', () => {
    const full = {
      ...payload,
      owner: 'user:42',
      filename: 'Résumé "final".pdf',
      sha256: 'ab'.repeat(32),
    };
    assert.deepEqual(verifyUploadToken(signUploadToken(full, SECRET), SECRET, NOW), full);
  });

  describe('what the server measured', () => {
    const measured = { size: 1234, mimeType: 'image/png', width: 640, height: 480 };

    it('round-trips the measurement, with or without dimensions', () => {
      for (const facts of [measured, { size: 0, mimeType: 'application/octet-stream' }]) {
        const full = { ...payload, sha256: 'ab'.repeat(32), measured: facts };
        assert.deepEqual(verifyUploadToken(signUploadToken(full, SECRET), SECRET, NOW), full);
      }
    });

    it('spells it in short names, under the same signature as the rest', () => {
      const [, body] = signUploadToken({ ...payload, measured }, SECRET).split('.') as [
        string,
        string,
      ];
      const json = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
      assert.deepEqual(json.m, { s: 1234, t: 'image/png', w: 640, h: 480 });
      assert.equal(json.measured, undefined);
      const larger = { ...json, m: { s: 1, t: 'image/png', w: 640, h: 480 } };
      const token = signUploadToken({ ...payload, measured }, SECRET);
      const mac = token.split('.')[2]!;
      assertInvalid(
        `v1.${Buffer.from(JSON.stringify(larger)).toString('base64url')}.${mac}`,
        /signature does not match/,
      );
    });

    it('reads a token without it (issued before it existed) as one to measure', () => {
      const older = signRawJson({ ...payload, sha256: 'cd'.repeat(32) });
      const read = verifyUploadToken(older, SECRET, NOW);
      assert.equal(read.measured, undefined);
      assert.equal(read.sha256, 'cd'.repeat(32));
    });

    it('skips facts it does not know, as a newer version may add some', () => {
      const read = verifyUploadToken(
        signRawJson({ ...payload, m: { s: 5, t: 'text/plain', d: 12 } }),
        SECRET,
        NOW,
      );
      assert.deepEqual(read.measured, { size: 5, mimeType: 'text/plain' });
    });

    const shapes: [string, unknown][] = [
      ['null', null],
      ['an array', [1234, 'image/png']],
      ['without a size', { t: 'image/png' }],
      ['without a type', { s: 1234 }],
      ['with a negative size', { s: -1, t: 'image/png' }],
      ['with a fractional size', { s: 1.5, t: 'image/png' }],
      ['with a size as a string', { s: '1234', t: 'image/png' }],
      ['with a numeric type', { s: 1, t: 7 }],
      ['with a width as a string', { s: 1, t: 'image/png', w: '640' }],
      ['with a null height', { s: 1, t: 'image/png', h: null }],
    ];
    for (const [label, m] of shapes) {
      it(`rejects a measurement ${label}`, () => {
        assertInvalid(signRawJson({ ...payload, m }), /wrong shape/);
      });
    }
  });

  describe('tampering', () => {
    const token = signUploadToken(payload, SECRET);
    const [version, body, mac] = token.split('.') as [string, string, string];

    it('rejects a body with one character changed', () => {
      const middle = Math.floor(body.length / 2);
      assertInvalid(
        `${version}.${replaceAt(body, middle, otherChar(body[middle]!))}.${mac}`,
        /tampered/,
      );
    });

    it('rejects a re-encoded payload (another file id) under the old signature', () => {
      const forged = Buffer.from(JSON.stringify({ ...payload, id: 'someone-else.png' })).toString(
        'base64url',
      );
      assertInvalid(`${version}.${forged}.${mac}`, /signature does not match/);
    });

    it('rejects a signature with one character changed', () => {
      assertInvalid(`${version}.${body}.${replaceAt(mac, 10, otherChar(mac[10]!))}`, /tampered/);
    });

    it('rejects a truncated signature', () => {
      assertInvalid(`${version}.${body}.${mac.slice(0, -4)}`, /signature does not match/);
    });

    // The documented contract is that any change to the token fails; base64url decoding is
    // lenient, so these checks only hold if the signature text itself is compared strictly.
    it('rejects a signature whose last character differs only in unused bits', () => {
      const last = mac.length - 1;
      assertInvalid(
        `${version}.${body}.${replaceAt(mac, last, otherChar(mac[last]!))}`,
        /signature/,
      );
    });

    it('rejects a signature with junk characters inserted', () => {
      assertInvalid(`${version}.${body}.${mac.slice(0, 5)}!${mac.slice(5)}`, /signature/);
      assertInvalid(`${version}.${body}.${mac}=`, /signature/);
    });

    it('rejects a token signed with another secret', () => {
      assertInvalid(signUploadToken(payload, 'another-secret'), /forged/);
    });

    it('reports a forged token as invalid, not expired, even when its expiry has passed', () => {
      assertInvalid(
        signUploadToken({ ...payload, expiresAt: NOW - 1 }, 'another-secret'),
        /forged/,
      );
    });
  });

  describe('expiry', () => {
    it('accepts a token one millisecond before it expires', () => {
      const token = signUploadToken({ ...payload, expiresAt: NOW + 1 }, SECRET);
      assert.equal(verifyUploadToken(token, SECRET, NOW).expiresAt, NOW + 1);
    });

    for (const [label, expiresAt] of [
      ['at the exact expiry instant', NOW],
      ['after expiry', NOW - 1],
    ] as const) {
      it(`rejects a token ${label} with ExpiredTokenError`, () => {
        const token = signUploadToken({ ...payload, expiresAt }, SECRET);
        assert.throws(
          () => verifyUploadToken(token, SECRET, NOW),
          (error: unknown) => {
            assert.ok(error instanceof ExpiredTokenError);
            assert.equal(error.code, 'expired_token');
            assert.equal(error.expiredAt.getTime(), expiresAt);
            assert.match(error.message, /expired at/);
            assert.ok(error.message.includes(new Date(expiresAt).toISOString()));
            return true;
          },
        );
      });
    }
  });

  describe('malformed input', () => {
    const token = signUploadToken(payload, SECRET);
    const [, body, mac] = token.split('.') as [string, string, string];

    it('rejects another version prefix', () => {
      assertInvalid(`v2.${body}.${mac}`, /malformed/);
      assertInvalid(`V1.${body}.${mac}`, /malformed/);
    });

    it('rejects extra and missing segments', () => {
      assertInvalid(`${token}.extra`, /malformed/);
      assertInvalid(`${token}.`, /malformed/);
      assertInvalid(`v1.${body}`, /malformed/);
      assertInvalid(`v1..${mac}`, /malformed/);
      assertInvalid(`v1.${body}.`, /malformed/);
      assertInvalid('', /malformed/);
    });

    it('rejects values that are not strings', () => {
      for (const value of [undefined, null, 42, {}, [token], Buffer.from(token)]) {
        assertInvalid(value, /not a token string/);
      }
    });

    it('rejects strings over 8192 characters before doing any work', () => {
      assertInvalid(`${token}${'A'.repeat(8193 - token.length)}`, /not a token string/);
    });

    it('accepts a valid token just under the length limit', () => {
      let filename = '';
      while (signUploadToken({ ...payload, filename: `${filename}a` }, SECRET).length <= 8192) {
        filename += 'a';
      }
      const long = signUploadToken({ ...payload, filename }, SECRET);
      assert.ok(long.length > 8188, `token length ${long.length}`);
      assert.equal(verifyUploadToken(long, SECRET, NOW).filename, filename);
    });
  });

  describe('correctly signed but unusable payloads', () => {
    const shapes: [string, unknown][] = [
      ['without id', { storage: 'cache', expiresAt: NOW + 1000 }],
      ['without storage', { id: 'x', expiresAt: NOW + 1000 }],
      ['without expiresAt', { storage: 'cache', id: 'x' }],
      ['with expiresAt as a string', { ...payload, expiresAt: String(NOW + 1000) }],
      ['with a numeric id', { ...payload, id: 7 }],
      ['with a numeric owner', { ...payload, owner: 42 }],
      ['with a null filename', { ...payload, filename: null }],
      ['with a numeric sha256', { ...payload, sha256: 1234 }],
      ['that is null', null],
      ['that is an array', [payload]],
      ['that is a number', 5],
    ];
    for (const [label, value] of shapes) {
      it(`rejects a payload ${label}`, () => {
        assertInvalid(signRawJson(value), /wrong shape/);
      });
    }

    it('rejects a payload that is not JSON', () => {
      assertInvalid(signRawBody(Buffer.from('{not json').toString('base64url')), /not JSON/);
    });
  });
});
