// README's Uppy 6 AwsS3 setup, verbatim between the markers; test/http/uppy-readme.test.ts
// bundles this file with esbuild, as an app's bundler would, and runs it in Chromium.
/* global form */
// --- README
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';

// The attachment the files are for: Uppy sends the file's meta when an upload starts.
const uppy = new Uppy({ meta: { entity: 'Photo', attachment: 'image' } });
// Straight to the bucket, in one presigned POST (multipart: `shouldUseMultipart: true`,
// parts of 5 MiB, Uppy's minimum; by default Uppy uses multipart above 100 MB).
uppy.use(AwsS3, { companionEndpoint: '/attachments', shouldUseMultipart: false });
uppy.on('upload-success', (file, response) => {
  // The signed key, e.g. `cache/u1.eyJ4Ijo….Qm9u…/0b5c….png`: what the form sends.
  form.elements.image.value = response.body.key;
});
// --- end of README
globalThis.uppy = uppy;
