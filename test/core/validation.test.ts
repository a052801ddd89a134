import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFile } from '../../src/core/validation.js';
import {
  EmptyFileError,
  FileTooLargeError,
  FileTypeNotAllowedError,
  ImageTooLargeError,
  type FileMetadata,
} from '../../src/index.js';
import { mimeTypeMatches } from '../../src/core/index.js';

const file = (size: number, mimeType = 'image/png'): FileMetadata => ({
  filename: 'f',
  size,
  mimeType,
});

describe('mimeTypeMatches', () => {
  it('matches exact types', () => {
    assert.equal(mimeTypeMatches('application/pdf', ['application/pdf']), true);
    assert.equal(mimeTypeMatches('application/pdf', ['image/png', 'application/pdf']), true);
    assert.equal(mimeTypeMatches('application/pdf', ['application/pd']), false);
    assert.equal(mimeTypeMatches('application/pdfx', ['application/pdf']), false);
  });

  it('matches type/* wildcards on the whole top-level type only', () => {
    assert.equal(mimeTypeMatches('image/png', ['image/*']), true);
    assert.equal(mimeTypeMatches('image/svg+xml', ['image/*']), true);
    assert.equal(mimeTypeMatches('application/pdf', ['image/*']), false);
    assert.equal(mimeTypeMatches('imagex/png', ['image/*']), false);
    assert.equal(mimeTypeMatches('video/mp4', ['image/*', 'video/*']), true);
  });

  it('matches any type against */*', () => {
    assert.equal(mimeTypeMatches('application/octet-stream', ['*/*']), true);
  });

  it('matches nothing against an empty list', () => {
    assert.equal(mimeTypeMatches('image/png', []), false);
  });

  it('ignores the case of an exact pattern', () => {
    assert.equal(mimeTypeMatches('application/pdf', ['Application/PDF']), true);
  });

  it('ignores the case of a wildcard pattern', () => {
    assert.equal(mimeTypeMatches('image/png', ['Image/*']), true);
    assert.equal(mimeTypeMatches('image/png', ['IMAGE/*']), true);
  });
});

describe('validateFile', () => {
  it('passes a file that breaks no rule, or when there are no rules', () => {
    assert.doesNotThrow(() =>
      validateFile(file(100), { maxSize: 1000, allowedTypes: ['image/*'] }),
    );
    assert.doesNotThrow(() => validateFile(file(10 ** 12, 'x/y'), {}));
  });

  it('passes a file of exactly maxSize bytes', () => {
    assert.doesNotThrow(() => validateFile(file(1000), { maxSize: 1000 }));
    assert.doesNotThrow(() => validateFile(file(0), { maxSize: 0, allowEmpty: true }));
  });

  it('refuses an empty file unless the rules allow it', () => {
    assert.throws(
      () => validateFile(file(0), {}),
      (error: unknown) => error instanceof EmptyFileError && error.code === 'empty_file',
    );
    assert.doesNotThrow(() => validateFile(file(0), { allowEmpty: true }));
  });

  it('refuses an image whose declared pixels exceed maxPixels, naming both', () => {
    const image = { ...file(10, 'image/png'), width: 20000, height: 20000 };
    assert.throws(
      () => validateFile(image, { maxPixels: 100_000_000 }),
      (error: unknown) =>
        error instanceof ImageTooLargeError &&
        error.limit === 100_000_000 &&
        error.dimensions?.width === 20000 &&
        error.dimensions.height === 20000,
    );
    assert.doesNotThrow(() => validateFile(image, { maxPixels: 400_000_000 }));
    assert.doesNotThrow(() => validateFile(file(10), { maxPixels: 1 }), 'no dimensions read');
  });

  it('rejects a file one byte over maxSize, naming size and limit', () => {
    assert.throws(
      () => validateFile(file(1001), { maxSize: 1000 }),
      (error: unknown) => {
        assert.ok(error instanceof FileTooLargeError);
        assert.equal(error.code, 'file_too_large');
        assert.equal(error.size, 1001);
        assert.equal(error.maxSize, 1000);
        assert.match(error.message, /1001 bytes.*limit of 1000 bytes/);
        return true;
      },
    );
  });

  it('treats maxSize 0 as a limit, not as "no limit"', () => {
    assert.throws(() => validateFile(file(1), { maxSize: 0 }), FileTooLargeError);
  });

  it('rejects a type outside the allowed list, naming the type and what is allowed', () => {
    assert.throws(
      () => validateFile(file(10, 'application/pdf'), { allowedTypes: ['image/*', 'text/plain'] }),
      (error: unknown) => {
        assert.ok(error instanceof FileTypeNotAllowedError);
        assert.equal(error.code, 'file_type_not_allowed');
        assert.equal(error.mimeType, 'application/pdf');
        assert.deepEqual(error.allowed, ['image/*', 'text/plain']);
        assert.match(error.message, /application\/pdf.*not allowed.*image\/\*, text\/plain/);
        return true;
      },
    );
  });

  it('rejects every type when the allowed list is empty', () => {
    assert.throws(() => validateFile(file(1), { allowedTypes: [] }), FileTypeNotAllowedError);
  });

  it('reports the size first when a file breaks both rules', () => {
    assert.throws(
      () =>
        validateFile(file(2000, 'application/zip'), { maxSize: 1000, allowedTypes: ['image/*'] }),
      FileTooLargeError,
    );
  });
});
