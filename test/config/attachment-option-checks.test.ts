import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const script = fileURLToPath(new URL('../support/placeholder-boot-process.js', import.meta.url));

/** What an app over `entity` saw at boot, with the packages `hide` names not installed. */
async function boot(entity: string, hide: string[] = []): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(process.execPath, [script], {
    env: { ...process.env, ENTITY: entity, HIDE: hide.join(',') },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

describe("attachments' options are checked at startup", () => {
  it('boots without sharp, thumbhash and blurhash when no attachment asks for a placeholder', async () => {
    assert.deepEqual(await boot('Photo', ['sharp', 'thumbhash', 'blurhash']), { booted: true });
  });

  it('boots with placeholders when their packages are installed', async () => {
    assert.deepEqual(await boot('ThumbnailedArt'), { booted: true });
    assert.deepEqual(await boot('BlurredArt'), { booted: true });
  });

  it('fails at boot, saying what to install, when a placeholder package is missing', async () => {
    assert.deepEqual(await boot('ThumbnailedArt', ['thumbhash']), {
      error:
        'AttachmentConfigurationError: @Attachment() ThumbnailedArt.image: Placeholders of this ' +
        'type need the `thumbhash` package; run `npm install thumbhash`',
    });
    assert.deepEqual(await boot('BlurredArt', ['sharp']), {
      error:
        'AttachmentConfigurationError: @Attachment() BlurredArt.image: Placeholders of this ' +
        'type need the `sharp` package; run `npm install sharp`',
    });
  });

  it('fails at boot on a placeholder type it does not know', async () => {
    assert.deepEqual(await boot('MisplacedArt'), {
      error:
        "AttachmentConfigurationError: @Attachment() MisplacedArt.image: `placeholder` must be 'thumbhash' or 'blurhash'; got webp",
    });
  });

  it('fails at boot on dimension rules no image could meet', async () => {
    assert.deepEqual(await boot('ImpossibleArt'), {
      error:
        'AttachmentConfigurationError: @Attachment() ImpossibleArt.image: `minWidth` (300) is ' +
        'larger than `maxWidth` (200)',
    });
  });
});
