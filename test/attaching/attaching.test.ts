import '../support/harness.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Repository } from 'typeorm';
import {
  AttachmentConfigurationError,
  ExpiredTokenError,
  FileNotFoundError,
  FileSystemStorage,
  FileTooLargeError,
  FileTypeNotAllowedError,
  EmptyFileError,
  ImageTooLargeError,
  InvalidFileIdError,
  InvalidTokenError,
  MalformedImageError,
  TokenAlreadyUsedError,
  TokenOwnerMismatchError,
} from '../../src/index.js';
import { signUploadToken, type UploadTokenPayload } from '../../src/core/index.js';
import { SweepHandler } from '../../src/work/handlers/sweep.handler.js';
import type { TestDatabase } from '../support/databases.js';
import { useHarness } from '../support/suite.js';
import { Dossier, Photo } from '../support/entities.js';
import { pdf, png, streamedPng } from '../support/fixtures.js';
import { photo as image, pngBombHeader } from '../derivatives/images.js';
import {
  filesOnDisk,
  listFiles,
  SECRET,
  storedFiles,
  waitForIdle,
  type Harness,
} from '../support/harness.js';
import { PausingStorage } from '../support/pausing-storage.js';
import { StepGate } from '../support/step-gate.js';

const MiB = 1024 * 1024;
const HOUR = 3_600_000;

/** A whole PNG of `total` bytes, streamed in chunks of `size`. */
async function* chunks(total: number, size = 64 * 1024): AsyncGenerator<Buffer> {
  yield* streamedPng(total, size);
}

describe('attaching rejects bad input with a typed error and leaves nothing behind', () => {
  let db: TestDatabase;
  let harness: Harness;
  let photos: Repository<Photo>;

  const suite = useHarness('postgres', [Photo]);
  before(() => {
    ({ db, harness } = suite);
    photos = db.dataSource.getRepository(Photo);
  });

  afterEach(async () => {
    await waitForIdle(harness, db.dataSource);
  });

  function sign(payload: Partial<UploadTokenPayload>, secret = SECRET): string {
    return signUploadToken(
      { storage: 'cache', id: 'missing.png', expiresAt: Date.now() + HOUR, ...payload },
      secret,
    );
  }

  /**
   * Attaching `token` fails with `errorClass`, the entity is untouched, and the storages hold
   * the same files as before except `deleted` (a valid upload that broke the rules).
   */
  async function rejects(
    token: string,
    errorClass: new (...args: never[]) => Error,
    deleted?: string,
  ) {
    const photo = photos.create({ title: 'untouched' });
    const before = await storedFiles(harness.storages);
    await assert.rejects(harness.attachments.attach(photo, 'image', token), errorClass);
    assert.equal(photo.image, undefined, 'the attachment is not set');
    assert.deepEqual(
      await storedFiles(harness.storages),
      before.filter((key) => key !== `cache:${deleted}`),
      'no file added or removed',
    );
  }

  it('refuses a token signed with another secret, even for a real cached file', async () => {
    const victim = await harness.attachments.cache(png(5, 5), { filename: 'a.png' });
    await rejects(
      sign({ id: victim.file.id }, 'another-secret-another-secret-0123456'),
      InvalidTokenError,
    );
    await harness.storages.cache!.delete(victim.file.id);
  });

  it('refuses tampered tokens: edited payload, edited signature, garbage', async () => {
    const { token, file } = await harness.attachments.cache(png(5, 5), { filename: 'a.png' });
    const [version, body, mac] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as UploadTokenPayload;
    const longer = Buffer.from(JSON.stringify({ ...payload, expiresAt: Date.now() + 1e9 }));
    await rejects(`${version}.${longer.toString('base64url')}.${mac}`, InvalidTokenError);
    const flipped = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
    await rejects(`${version}.${body}.${flipped}`, InvalidTokenError);
    await rejects('not-a-token', InvalidTokenError);
    await rejects('', InvalidTokenError);
    await harness.storages.cache!.delete(file.id);
  });

  it('refuses an expired token; the sweep later deletes its unclaimed file', async () => {
    const { file } = await harness.attachments.cache(png(5, 5), { filename: 'a.png' });
    const expired = sign({ id: file.id, expiresAt: Date.now() - 1 });
    const photo = photos.create({ title: 'late' });
    const error = await harness.attachments.attach(photo, 'image', expired).catch((e) => e);
    assert.ok(error instanceof ExpiredTokenError);
    assert.match(error.message, /expired at .*upload the file again/);
    assert.ok(await harness.storages.cache!.stat(file.id), 'kept until the cache TTL');

    const sweep = harness.app.get(SweepHandler, { strict: false });
    assert.equal((await sweep.run(Date.now())).deletedCachedFiles, 0, 'young files are kept');
    const result = await sweep.run(Date.now() + 25 * HOUR);
    assert.equal(result.deletedCachedFiles, 1);
    assert.deepEqual(await listFiles(harness.storages.cache!), []);
  });

  it('refuses tokens naming another storage or a path outside the cache root', async () => {
    const photo = photos.create({ title: 'kept' });
    const { token } = await harness.attachments.cache(png(6, 6), { filename: 'kept.png' });
    await harness.attachments.attach(photo, 'image', token);
    await photos.save(photo);
    await waitForIdle(harness, db.dataSource);
    const storedId = (await photos.findOneByOrFail({ id: photo.id })).image!.id;

    await rejects(sign({ storage: 'store', id: storedId }), InvalidTokenError);
    await rejects(sign({ id: `../store/${storedId}` }), InvalidFileIdError);
    await rejects(sign({ id: '/etc/passwd' }), InvalidFileIdError);
    await rejects(sign({ id: 'a\\..\\b' }), InvalidFileIdError);
    await rejects(sign({ id: 'nul\0byte' }), InvalidFileIdError);
    await rejects(sign({ id: 'never-uploaded.png' }), FileNotFoundError);
    assert.ok(await harness.storages.store!.stat(storedId), 'the stored file is intact');
  });

  it('a token works once: a second attach fails, and so does a racing second save', async () => {
    const { token } = await harness.attachments.cache(png(7, 7), { filename: 'once.png' });
    const first = photos.create({ title: 'first' });
    const racer = photos.create({ title: 'racer' });
    await harness.attachments.attach(first, 'image', token);
    // Both attached before either saved: the claim taken by the first save stops the second.
    await harness.attachments.attach(racer, 'image', token);
    await photos.save(first);
    await assert.rejects(photos.save(racer), TokenAlreadyUsedError);
    assert.equal(await photos.countBy({ title: 'racer' }), 0, 'the racing save rolled back');
    await waitForIdle(harness, db.dataSource);
    await rejects(token, TokenAlreadyUsedError);
    const saved = await photos.findOneByOrFail({ id: first.id });
    assert.equal(saved.image?.storage, 'store');
    assert.ok(await harness.storages.store!.stat(saved.image!.id));
  });

  it('a token bound to an owner cannot be attached by anyone else', async () => {
    const { token, file } = await harness.attachments.cache(png(5, 5), { owner: 'alice' });
    const photo = photos.create();
    await assert.rejects(
      harness.attachments.attach(photo, 'image', token, { owner: 'mallory' }),
      TokenOwnerMismatchError,
    );
    await assert.rejects(
      harness.attachments.attach(photo, 'image', token),
      TokenOwnerMismatchError,
    );
    assert.ok(await harness.storages.cache!.stat(file.id), "the owner's upload is kept");
    const attached = await harness.attachments.attach(photo, 'image', token, { owner: 'alice' });
    assert.equal(attached?.id, file.id);
    await harness.storages.cache!.delete(file.id);
  });

  it('cuts off an oversized stream and leaves no partial file, not even a temporary one', async () => {
    const photo = photos.create();
    const source = Readable.from(chunks(3 * MiB));
    const error = await harness.attachments
      .attach(photo, 'image', source, { filename: 'big.png' })
      .catch((e) => e);
    assert.ok(error instanceof FileTooLargeError);
    assert.match(error.message, /limit of 1048576 bytes/);
    assert.equal(photo.image, undefined);
    assert.deepEqual(await filesOnDisk(harness, 'cache'), []);
  });

  it('judges the type by bytes: a PDF named .png is refused and deleted', async () => {
    const photo = photos.create();
    const error = await harness.attachments
      .attach(photo, 'image', pdf(), { filename: 'holiday.png' })
      .catch((e) => e);
    assert.ok(error instanceof FileTypeNotAllowedError);
    assert.equal(error.mimeType, 'application/pdf');
    assert.match(error.message, /application\/pdf .*not allowed; allowed: image\/\*/);
    assert.deepEqual(await filesOnDisk(harness, 'cache'), []);
  });

  it("re-checks a cached file against the attachment's own rules and deletes it if it fails", async () => {
    // Cached with no rules (as a generic upload endpoint would), attached to a stricter field.
    const big = await harness.attachments.cache(Buffer.alloc(2 * MiB, 7));
    await rejects(big.token, FileTooLargeError, big.file.id);
    const doc = await harness.attachments.cache(pdf(), { filename: 'x.png' });
    await rejects(doc.token, FileTypeNotAllowedError, doc.file.id);
  });

  it('refuses an empty file, a bomb and a broken image from a Buffer or a stream, keeping none', async () => {
    const bomb = pngBombHeader(12000, 12000);
    assert.ok(bomb.length < MiB, 'within the size limit: judged by its pixels');
    const jpeg = await image(40, 30).jpeg().toBuffer();
    const cases: [string, Buffer, new (...args: never[]) => Error][] = [
      ['empty', Buffer.alloc(0), EmptyFileError],
      ['bomb', bomb, ImageTooLargeError],
      ['truncated JPEG', jpeg.subarray(0, -10), MalformedImageError],
      [
        'PNG and a page',
        Buffer.concat([png(4, 4), Buffer.from('<html></html>')]),
        MalformedImageError,
      ],
    ];
    for (const [what, bytes, errorClass] of cases) {
      for (const source of [bytes, Readable.from(bytes.length ? [bytes] : [])]) {
        const photo = photos.create();
        await assert.rejects(
          harness.attachments.attach(photo, 'image', source, { filename: 'a.png' }),
          errorClass,
          what,
        );
        assert.equal(photo.image, undefined);
        assert.deepEqual(await filesOnDisk(harness, 'cache'), [], what);
      }
      await assert.rejects(harness.attachments.cache(bytes), errorClass, `cache() of ${what}`);
      assert.deepEqual(await filesOnDisk(harness, 'cache'), [], what);
    }
    // The bomb's header is enough: its limit is the module's upload.maxPixels (100 MP).
    const error = await harness.attachments.cache(bomb).catch((e: unknown) => e);
    assert.ok(error instanceof ImageTooLargeError);
    assert.deepEqual(
      { limit: error.limit, dimensions: error.dimensions },
      { limit: 100_000_000, dimensions: { width: 12000, height: 12000 } },
    );
  });

  it('refuses the same files from a token, deleting them', async () => {
    const empty = await harness.attachments.cache(Buffer.alloc(0), { allowEmpty: true });
    await rejects(empty.token, EmptyFileError, empty.file.id);
    const bomb = await harness.attachments.cache(pngBombHeader(12000, 12000), {
      maxPixels: 200_000_000,
    });
    await rejects(bomb.token, ImageTooLargeError, bomb.file.id);
    // Put in the cache by another way (as a direct upload is): read to its end at attach().
    const id = `${randomUUID()}.png`;
    const polyglot = Buffer.concat([png(4, 4), Buffer.from('<html></html>')]);
    await harness.storages.cache!.upload(id, Readable.from([polyglot]));
    await rejects(harness.attachments.issueToken({ id }), MalformedImageError, id);
  });

  it('names the property when it is not an attachment', async () => {
    const photo = photos.create();
    await assert.rejects(
      harness.attachments.attach(photo, 'title', null),
      (error: Error) =>
        error instanceof AttachmentConfigurationError &&
        /Photo\.title is not decorated/.test(error.message),
    );
  });

  it('still attaches and promotes good files after all of the above', async () => {
    const photo = photos.create({ title: 'good' });
    await harness.attachments.attach(photo, 'image', png(9, 4), { filename: 'good.png' });
    assert.deepEqual(
      { width: photo.image?.metadata.width, height: photo.image?.metadata.height },
      { width: 9, height: 4 },
    );
    await photos.save(photo);
    await waitForIdle(harness, db.dataSource);
    const saved = await photos.findOneByOrFail({ id: photo.id });
    assert.equal(saved.image?.storage, 'store');
    assert.equal(saved.image?.metadata.mimeType, 'image/png');
  });
});

describe("a file that breaks one attachment's rules is deleted only if no save has taken it", () => {
  const directory = join(tmpdir(), `attachments-claimed-${randomUUID()}`);
  const cache = new PausingStorage(new FileSystemStorage({ directory: join(directory, 'cache') }));
  const promotion = new StepGate();
  const suite = useHarness('postgres', [Photo, Dossier], {
    storages: { cache, store: new FileSystemStorage({ directory: join(directory, 'store') }) },
    jobHooks: { onStep: promotion.pass },
  });
  afterEach(() => promotion.open());
  after(() => rm(directory, { recursive: true, force: true }));

  it('keeps a file that a save claimed while attach() was inspecting it', async () => {
    const { harness, db } = suite;
    const dossiers = db.dataSource.getRepository(Dossier);
    const big = await harness.attachments.cache(Buffer.alloc(2 * MiB, 7));
    // A token without the measurement (as a direct upload's): attach() inspects the file.
    const measuredAtAttach = harness.attachments.issueToken({ id: big.file.id });
    const photo = db.dataSource.getRepository(Photo).create({ title: 'too strict' });
    const dossier = dossiers.create();
    // Held until the file is checked below, so the promotion's cleanup cannot remove it first.
    promotion.close('promote:before-copy');
    cache.pauseNextStat(async () => {
      await harness.attachments.attach(dossier, 'report', big.token);
      await dossiers.save(dossier);
    });
    await assert.rejects(
      harness.attachments.attach(photo, 'image', measuredAtAttach),
      FileTooLargeError,
    );
    assert.equal(photo.image, undefined);
    assert.ok(await cache.stat(big.file.id), 'the file the dossier took is still cached');

    promotion.open();
    await waitForIdle(harness, db.dataSource);
    const saved = await dossiers.findOneByOrFail({ id: dossier.id });
    assert.equal(saved.report?.storage, 'store');
    assert.equal(saved.report?.metadata.size, big.file.metadata.size);
    assert.equal(
      (await harness.storages.store!.stat(saved.report!.id))?.size,
      big.file.metadata.size,
    );
  });

  it('a refused file is deleted and its token spent, so an earlier attach() cannot save it', async () => {
    const { harness, db } = suite;
    const dossiers = db.dataSource.getRepository(Dossier);
    const big = await harness.attachments.cache(Buffer.alloc(2 * MiB, 7));
    const dossier = dossiers.create();
    await harness.attachments.attach(dossier, 'report', big.token);
    const photo = db.dataSource.getRepository(Photo).create({ title: 'too strict' });
    await assert.rejects(harness.attachments.attach(photo, 'image', big.token), FileTooLargeError);
    assert.equal(await cache.stat(big.file.id), null, 'the refused file is deleted');
    const records = await dossiers.count();
    await assert.rejects(dossiers.save(dossier), TokenAlreadyUsedError);
    assert.equal(await dossiers.count(), records, 'no record names the deleted file');
  });
});
