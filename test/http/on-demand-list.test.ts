import '../support/harness.js';
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Attachments, type UploadedFile } from '../../src/index.js';
import { derivativeFolder } from '../../src/derivatives/index.js';
import { resizeImage } from '../../src/derivatives/image.js';
import { DATABASES } from '../support/databases.js';
import { png } from '../support/fixtures.js';
import { referencedFiles, storedFiles, waitForIdle, type Harness } from '../support/harness.js';
import { rawRequest, type RawResponse } from '../support/http-client.js';
import { useHarness } from '../support/suite.js';

/** A list whose thumbnails are made on the first request of each one. */
@Entity()
class Contact {
  @PrimaryGeneratedColumn()
  id!: number;

  @Attachments({
    allowedTypes: ['image/*'],
    derivatives: {
      thumb: {
        processor: resizeImage({ width: 16, height: 16, format: 'webp' }),
        onDemand: true,
      },
    },
  })
  portraits!: UploadedFile[] | null;
}

for (const kind of DATABASES) {
  describe(`on-demand derivatives of list elements on ${kind}`, () => {
    const suite = useHarness(kind, [Contact], { http: true });
    let harness: Harness;
    let contacts: Repository<Contact>;
    before(() => {
      harness = suite.harness;
      contacts = suite.db.dataSource.getRepository(Contact);
    });

    afterEach(async () => {
      await waitForIdle(harness, suite.db.dataSource);
      assert.deepEqual(
        await storedFiles(harness.storages),
        await referencedFiles(suite.db.dataSource, [
          { entity: Contact, properties: ['portraits'] },
        ]),
        'every stored file is named by the list, and every named file is stored',
      );
    });

    const get = (path: string) =>
      rawRequest(`${harness.baseUrl}${path}`, { method: 'GET' }) as Promise<RawResponse>;

    async function savedContact(): Promise<Contact> {
      const contact = contacts.create({ portraits: [] });
      await harness.attachments.attachMany(contact, 'portraits', [png(40, 30, 1), png(30, 40, 2)]);
      await contacts.save(contact);
      await waitForIdle(harness, suite.db.dataSource);
      return contacts.findOneByOrFail({ id: contact.id });
    }

    const thumbUrl = (contact: Contact, portrait: UploadedFile) =>
      harness.attachments.url(portrait, {
        derivative: 'thumb',
        record: contact,
        attachment: 'portraits',
      });

    it('makes each element its own thumbnail on its first request, into that element', async () => {
      const contact = await savedContact();
      const [first, second] = contact.portraits!;
      assert.equal(first!.derivatives, undefined, 'no job made it');
      const url = await thumbUrl(contact, second!);
      assert.match(url, /^\/attachments\/derivatives\/Contact\/portraits\/thumb\?/);

      const answer = await get(url);
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'image/webp');
      const [untouched, made] = (await contacts.findOneByOrFail({ id: contact.id })).portraits!;
      assert.deepEqual(untouched, first, 'the other element as it was');
      assert.equal(made!.derivatives!.thumb!.id, `${derivativeFolder(second!)}thumb.webp`);

      assert.equal((await get(await thumbUrl(contact, first!))).status, 200);
      const portraits = (await contacts.findOneByOrFail({ id: contact.id })).portraits!;
      assert.deepEqual(
        portraits.map((portrait) => Object.keys(portrait.derivatives ?? {})),
        [['thumb'], ['thumb']],
      );
    });

    it("a detached element's URL serves nothing, and nothing of it is left", async () => {
      const contact = await savedContact();
      const [doomed] = contact.portraits!;
      const url = await thumbUrl(contact, doomed!);
      harness.attachments.detach(contact, 'portraits', [doomed!.id]);
      await contacts.save(contact);
      await waitForIdle(harness, suite.db.dataSource);
      assert.equal((await get(url)).status, 404);
    });
  });
}
