import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFile } from '../../src/core/validation.js';
import {
  AttachmentConfigurationError,
  ImageDimensionsError,
  ImageTooLargeError,
  attachmentErrorStatus,
  type FileMetadata,
} from '../../src/index.js';
import { checkDimensionOptions } from '../../src/config/index.js';

const image = (width: number, height: number, mimeType = 'image/png'): FileMetadata => ({
  filename: 'f.png',
  size: 100,
  mimeType,
  width,
  height,
});

/** The rule that refuses a file, with what the error says, or 'passes'. */
function verdict(metadata: FileMetadata, rules: Parameters<typeof validateFile>[1]) {
  try {
    validateFile(metadata, rules);
    return 'passes';
  } catch (error) {
    assert.ok(error instanceof ImageDimensionsError, String(error));
    return {
      rule: error.rule,
      limit: error.limit,
      width: error.width,
      height: error.height,
      message: error.message,
    };
  }
}

describe('dimension rules', () => {
  // The rule, its limit, an image at the limit, one a pixel beyond it, and what it needs.
  const boundaries = [
    ['minWidth', 200, [200, 80], [199, 80], 'a width of at least'],
    ['maxWidth', 2000, [2000, 80], [2001, 80], 'a width of at most'],
    ['minHeight', 80, [120, 80], [120, 79], 'a height of at least'],
    ['maxHeight', 600, [120, 600], [120, 601], 'a height of at most'],
  ] as const;
  for (const [rule, limit, [equalWidth, equalHeight], [width, height], needs] of boundaries) {
    it(`${rule}: an image at the limit passes, one pixel beyond it is refused`, () => {
      assert.equal(verdict(image(equalWidth, equalHeight), { [rule]: limit }), 'passes');
      assert.deepEqual(verdict(image(width, height), { [rule]: limit }), {
        rule,
        limit,
        width,
        height,
        message: `Image is ${width}x${height}; this attachment needs ${needs} ${limit} px`,
      });
    });
  }

  it('maxPixels: exactly the limit passes, one pixel more is refused', () => {
    assert.doesNotThrow(() => validateFile(image(100, 50), { maxPixels: 5000 }));
    assert.throws(
      () => validateFile(image(100, 51), { maxPixels: 5099 }),
      (error: unknown) =>
        error instanceof ImageTooLargeError && error.limit === 5099 && error.pixels === 5100,
    );
  });

  it('names the first rule broken, widths before heights', () => {
    const rules = { minWidth: 200, minHeight: 200, maxWidth: 400, maxHeight: 400 };
    const ruleOf = (width: number, height: number) => {
      const outcome = verdict(image(width, height), rules);
      return outcome === 'passes' ? outcome : outcome.rule;
    };
    assert.equal(ruleOf(200, 400), 'passes');
    assert.equal(ruleOf(100, 100), 'minWidth');
    assert.equal(ruleOf(300, 500), 'maxHeight');
  });

  it('refuses an image whose dimensions could not be read, naming the rule', () => {
    const unread: FileMetadata = { filename: 'x.jpg', size: 10, mimeType: 'image/jpeg' };
    assert.deepEqual(verdict(unread, { maxHeight: 600 }), {
      rule: 'maxHeight',
      limit: 600,
      width: undefined,
      height: undefined,
      message:
        'Image dimensions could not be read; this attachment needs a height of at most 600 px',
    });
    assert.equal(verdict(unread, {}), 'passes', 'no dimension rule: nothing to read');
  });

  it('does not hold a file that is not an image to them', () => {
    const text: FileMetadata = { filename: 'a.txt', size: 10, mimeType: 'text/plain' };
    assert.equal(verdict(text, { minWidth: 200, minHeight: 200 }), 'passes');
  });

  it('is answered 422 with code image_dimensions', () => {
    const error = new ImageDimensionsError('minWidth', 200, 120, 80);
    assert.equal(error.code, 'image_dimensions');
    assert.equal(attachmentErrorStatus(error), 422);
  });
});

describe('dimension options at startup', () => {
  const where = '@Attachment() Photo.image';

  it('accepts positive integers with each minimum at most its maximum', () => {
    assert.doesNotThrow(() =>
      checkDimensionOptions({ minWidth: 1, maxWidth: 1, minHeight: 10, maxHeight: 20 }, where),
    );
    assert.doesNotThrow(() => checkDimensionOptions({}, where));
  });

  it('refuses zero, negative, fractional and non-number bounds, naming the option', () => {
    for (const [rules, message] of [
      [{ minWidth: 0 }, '`minWidth` must be a positive integer (pixels); got 0'],
      [{ maxWidth: -5 }, '`maxWidth` must be a positive integer (pixels); got -5'],
      [{ minHeight: 1.5 }, '`minHeight` must be a positive integer (pixels); got 1.5'],
      [{ maxHeight: Number.NaN }, '`maxHeight` must be a positive integer (pixels); got NaN'],
      [{ maxHeight: '600' as unknown as number }, 'got 600'],
    ] as const) {
      assert.throws(
        () => checkDimensionOptions(rules, where),
        (error: unknown) =>
          error instanceof AttachmentConfigurationError &&
          error.message.startsWith(`${where}: `) &&
          error.message.includes(message),
        JSON.stringify(rules),
      );
    }
  });

  it('refuses a minimum above its maximum', () => {
    assert.throws(
      () => checkDimensionOptions({ minWidth: 300, maxWidth: 200 }, where),
      /Photo\.image: `minWidth` \(300\) is larger than `maxWidth` \(200\)/,
    );
    assert.throws(
      () => checkDimensionOptions({ minHeight: 2, maxHeight: 1 }, where),
      /`minHeight` \(2\) is larger than `maxHeight` \(1\)/,
    );
  });
});
