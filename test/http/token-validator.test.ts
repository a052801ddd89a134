/**
 * The early checks of an upload token in a DTO, over real HTTP: the class-validator decorator
 * (with Nest's ValidationPipe) and the Standard Schema (with Nest's StandardSchemaValidationPipe)
 * refuse malformed, forged and expired tokens with a 400, and let a valid one through to
 * `attach()`, which still claims it: a token used twice still fails there. The same on Express
 * and on Fastify, down to the JSON of each refusal.
 */
import '../support/harness.js';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  Body,
  Controller,
  Post,
  StandardSchemaValidationPipe,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { useContainer } from 'class-validator';
import { AttachmentsService, TokenAlreadyUsedError } from '../../src/index.js';
import { AttachmentsConfig } from '../../src/config/index.js';
import { signUploadToken } from '../../src/core/index.js';
import { uploadTokenSchema } from '../../src/http/upload-token-schema.js';
import { IsUploadToken, UploadTokenConstraint } from '../../src/http/validation.js';
import { png } from '../support/fixtures.js';
import { Photo } from '../support/entities.js';
import { SECRET } from '../support/harness.js';
import { PLATFORMS, type HttpPlatform } from '../support/platforms.js';
import { useHarness } from '../support/suite.js';

class CreatePhotoDto {
  @IsUploadToken()
  image!: string;
}

@Controller('photos')
class PhotosController {
  constructor(
    private readonly attachments: AttachmentsService,
    private readonly config: AttachmentsConfig,
  ) {}

  @Post()
  @UsePipes(new ValidationPipe())
  async create(@Body() dto: CreatePhotoDto) {
    const photo = new Photo();
    try {
      await this.attachments.attach(photo, 'image', dto.image);
    } catch (error) {
      if (error instanceof TokenAlreadyUsedError) return { refused: error.code };
      throw error;
    }
    await this.config.dataSource.getRepository(Photo).save(photo);
    return { id: photo.id };
  }
}

/** The module's secret, as an app has it from its configuration. */
const secret = SECRET;

@Controller('checked-tokens')
class CheckedTokensController {
  @Post()
  @UsePipes(new StandardSchemaValidationPipe())
  check(@Body('image', { schema: uploadTokenSchema({ secret }) }) image: string) {
    return { image };
  }
}

/** One moment in the past for every expired token, so both platforms refuse the same text. */
const expiredAt = Date.now() - 1000;

/** The bodies of every refusal, per platform, in the order they were asked for. */
const refusals: Partial<Record<HttpPlatform, unknown[]>> = {};

for (const platform of PLATFORMS) {
  describe(`early checks of upload tokens in DTOs, on ${platform}`, () => {
    const suite = useHarness('sqlite', [Photo], {
      http: true,
      platform,
      controllers: [PhotosController, CheckedTokensController],
      providers: [UploadTokenConstraint],
    });

    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${suite.harness.baseUrl}/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = (await response.json()) as Record<string, unknown>;
      if (response.status === 400) (refusals[platform] ??= []).push(answer);
      return { status: response.status, body: answer };
    };

    /** A malformed, a forged and an expired token, with the message each is refused with. */
    let bad: { name: string; token: unknown; message: RegExp }[];
    before(async () => {
      const { token } = await suite.harness.attachments.cache(png(4, 4), { filename: 'a.png' });
      const [version, body, mac] = token.split('.') as [string, string, string];
      const forgedMac = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
      const expired = signUploadToken(
        { storage: 'cache', id: 'some-file', expiresAt: expiredAt },
        SECRET,
      );
      const otherStorage = signUploadToken(
        { storage: 'store', id: 'some-file', expiresAt: Date.now() + 60_000 },
        SECRET,
      );
      bad = [
        { name: 'not a string', token: 42, message: /^Invalid upload token: not a token string$/ },
        { name: 'malformed', token: 'not-a-token', message: /^Invalid upload token: malformed/ },
        {
          name: 'forged',
          token: `${version}.${body}.${forgedMac}`,
          message: /signature does not match \(forged or tampered\)/,
        },
        { name: 'expired', token: expired, message: /^Upload token expired at .*upload the file/ },
        { name: 'for the store', token: otherStorage, message: /only files in the cache storage/ },
      ];
    });

    it('without the container wired, says how to wire it instead of passing', async () => {
      useContainer(
        {
          get: () => {
            throw new Error('nothing registered here');
          },
        },
        { fallbackOnErrors: true },
      );
      const { token } = await suite.harness.attachments.cache(png(4, 4), { filename: 'a.png' });
      const answer = await post('photos', { image: token });
      assert.equal(answer.status, 400);
      assert.match(
        String(answer.body.message),
        /useContainer\(app.select\(AppModule\), \{ fallbackOnErrors: true \}\)/,
      );
    });

    it('@IsUploadToken() lets a valid token through; attach() still refuses it twice', async () => {
      const app = suite.harness.app;
      const AppModule = suite.harness.rootModule;
      useContainer(app.select(AppModule), { fallbackOnErrors: true });
      const { token } = await suite.harness.attachments.cache(png(4, 4), { filename: 'a.png' });
      const first = await post('photos', { image: token });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(typeof first.body.id, 'number');
      const saved = await suite.db.dataSource
        .getRepository(Photo)
        .findOneByOrFail({ id: first.body.id as number });
      assert.equal(saved.image?.metadata.filename, 'a.png');

      const again = await post('photos', { image: token });
      assert.deepEqual(again, { status: 201, body: { refused: 'token_already_used' } });
    });

    it('@IsUploadToken() refuses bad tokens with a 400 naming the property and the reason', async () => {
      const app = suite.harness.app;
      const AppModule = suite.harness.rootModule;
      useContainer(app.select(AppModule), { fallbackOnErrors: true });
      for (const { name, token, message } of bad) {
        const answer = await post('photos', { image: token });
        assert.equal(answer.status, 400, name);
        const messages = answer.body.message as string[];
        assert.equal(messages.length, 1, name);
        assert.ok(messages[0]!.startsWith('image: '), `${name}: ${messages[0]}`);
        assert.match(messages[0]!.slice('image: '.length), message, name);
      }
      const missing = await post('photos', {});
      assert.equal(missing.status, 400);
    });

    it('the Standard Schema gives the same verdicts, as issues with the same messages', async () => {
      const { token } = await suite.harness.attachments.cache(png(4, 4), { filename: 'a.png' });
      assert.deepEqual(await post('checked-tokens', { image: token }), {
        status: 201,
        body: { image: token },
      });
      const schema = uploadTokenSchema({ secret: SECRET });
      for (const { name, token: bad_, message } of bad) {
        const answer = await post('checked-tokens', { image: bad_ });
        assert.equal(answer.status, 400, name);
        const messages = answer.body.message as string[];
        assert.equal(messages.length, 1, name);
        assert.match(messages[0]!, message, name);
        const result = await schema['~standard'].validate(bad_);
        assert.deepEqual(result, { issues: [{ message: messages[0] }] }, name);
      }
    });
  });
}

describe('refused tokens, across platforms', () => {
  it('are answered with the same JSON on Express and on Fastify', () => {
    assert.ok((refusals.express?.length ?? 0) >= 10, 'the refusals were recorded');
    assert.deepEqual(refusals.fastify, refusals.express);
  });
});
