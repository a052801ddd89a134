import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  kebabCase,
  pathSafeRecordId,
  storedFileId,
  type LocationContext,
} from '../../src/core/location.js';

const context: LocationContext = {
  entityName: 'user-profile',
  recordId: '42',
  attachment: 'avatar',
  file: {
    id: 'cache/2030/01/3f9c2a.png',
    storage: 'cache',
    metadata: { filename: 'me.png', size: 10, mimeType: 'image/png' },
  },
};

describe('storedFileId', () => {
  it("places 'record' files under entity, record id and attachment, by the cached basename", () => {
    assert.equal(storedFileId('record', context), 'user-profile/42/avatar/3f9c2a.png');
  });

  it("keeps the original filename with 'filename', under a folder unique to the upload", () => {
    const named = {
      ...context.file,
      metadata: { ...context.file.metadata, filename: 'Mon CV.pdf' },
    };
    assert.equal(
      storedFileId('filename', { ...context, file: named }),
      'user-profile/42/avatar/3f9c2a/Mon CV.pdf',
    );
    const unnamed = { ...context.file, metadata: { ...context.file.metadata, filename: null } };
    assert.equal(
      storedFileId('filename', { ...context, file: unnamed }),
      'user-profile/42/avatar/3f9c2a/3f9c2a.png',
    );
  });

  it("places 'flat' files at the cached basename", () => {
    assert.equal(storedFileId('flat', context), '3f9c2a.png');
  });

  it('uses a cached id without folders as the basename', () => {
    const file = { ...context.file, id: 'plain.bin' };
    assert.equal(storedFileId('record', { ...context, file }), 'user-profile/42/avatar/plain.bin');
    assert.equal(storedFileId('flat', { ...context, file }), 'plain.bin');
  });

  it('gives the same id on every call, so a retried promotion overwrites its own copy', () => {
    assert.equal(storedFileId('record', context), storedFileId('record', { ...context }));
  });

  it('appends the basename to the folder a function returns, given the full context', () => {
    const seen: LocationContext[] = [];
    const id = storedFileId((c) => {
      seen.push(c);
      return `tenants/7/${c.attachment}`;
    }, context);
    assert.equal(id, 'tenants/7/avatar/3f9c2a.png');
    assert.deepEqual(seen, [context]);
  });

  it('trims leading and trailing slashes from the folder a function returns', () => {
    assert.equal(
      storedFileId(() => '/a/b/', context),
      'a/b/3f9c2a.png',
    );
    assert.equal(
      storedFileId(() => '///a///', context),
      'a/3f9c2a.png',
    );
  });

  it('uses the bare basename when a function returns an empty folder', () => {
    for (const folder of ['', '/', '///']) {
      assert.equal(
        storedFileId(() => folder, context),
        '3f9c2a.png',
        JSON.stringify(folder),
      );
    }
  });
});

describe('kebabCase', () => {
  const cases: [string, string][] = [
    ['User', 'user'],
    ['UserProfile', 'user-profile'],
    ['HTMLPage', 'html-page'],
    ['APIKeyRotation', 'api-key-rotation'],
    ['userID', 'user-id'],
    ['Invoice2Line', 'invoice2-line'],
    ['already-kebab', 'already-kebab'],
  ];
  for (const [input, expected] of cases) {
    it(`turns ${input} into ${expected}`, () => {
      assert.equal(kebabCase(input), expected);
    });
  }
});

describe('pathSafeRecordId', () => {
  it('stringifies a single key', () => {
    assert.equal(pathSafeRecordId({ id: 42 }), '42');
    assert.equal(pathSafeRecordId({ uuid: '0b9e-4f.x_Y' }), '0b9e-4f.x_Y');
  });

  it('joins composite keys with - in key order', () => {
    assert.equal(pathSafeRecordId({ tenant: 7, user: 'bob' }), '7-bob');
  });

  it('cannot add or escape path segments', () => {
    const hostile = ['../x', '..', '.', '../../etc/passwd', 'a/b', 'a\\b', '/abs', '.hidden'];
    for (const value of hostile) {
      const id = pathSafeRecordId({ id: value });
      assert.ok(!/[/\\]/.test(id), `${JSON.stringify(value)} -> ${id}`);
      assert.ok(!id.startsWith('.'), `${JSON.stringify(value)} -> ${id}`);
      assert.ok(id.length > 0);
    }
    assert.equal(pathSafeRecordId({ id: '../x' }), '__x');
    assert.equal(pathSafeRecordId({ id: '..' }), '_');
  });

  it('replaces characters outside [A-Za-z0-9_.-], including controls and non-ASCII', () => {
    assert.equal(pathSafeRecordId({ id: 'a b\u0000c\nü:*' }), 'a_b_c____');
  });

  it('keeps a hostile part of a composite key from leading the id', () => {
    const id = pathSafeRecordId({ a: '..', b: '../y' });
    assert.equal(id, '_-.._y');
    assert.ok(!id.includes('/'));
  });
});
