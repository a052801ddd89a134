// README's Uppy 6 XHRUpload setup, verbatim between the markers; test/http/uppy-readme.test.ts
// bundles this file with esbuild, as an app's bundler would, and runs it in Chromium.
/* global form */
// --- README
import Uppy from '@uppy/core';
import XHRUpload from '@uppy/xhr-upload';

const uppy = new Uppy({ meta: { entity: 'Photo', attachment: 'image' } });
// Through the app (`POST /attachments/upload`); the meta fields go before the file.
uppy.use(XHRUpload, {
  endpoint: '/attachments/upload',
  // XHRUpload retries every failure, a 413 too; retry as AwsS3 does: never a 4xx but 429.
  shouldRetry: (xhr) => xhr.status < 400 || xhr.status >= 500 || xhr.status === 429,
});
uppy.on('upload-success', (file, response) => {
  form.elements.image.value = response.body.token;
});
// --- end of README
globalThis.uppy = uppy;
