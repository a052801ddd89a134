// The sample page: photos dropped on it, albums, and one stream of the library's events that
// tells each of them what happened to its files.
import { AlbumList } from '/page/albums.js';
import { PhotoList } from '/page/photos.js';

const find = (testid) => document.querySelector(`[data-testid="${testid}"]`);

// The server marks the file input "s3" when the files go straight to the bucket.
const input = find('file');
const mode = input.dataset.directUpload === 's3' ? 's3' : 'app';
if (mode === 's3') find('mode').textContent = 'files in an S3 bucket, uploaded straight to it';

const photos = new PhotoList(
  {
    dropzone: find('dropzone'),
    input,
    list: find('photos'),
    empty: find('photos-empty'),
    error: find('page-error'),
  },
  mode,
);
const albums = new AlbumList(
  { form: find('album-form'), list: find('albums'), error: find('album-form-error') },
  mode,
);

// The browser reconnects on its own after a drop; what happened meanwhile is read again.
const events = new EventSource('/events');
let connections = 0;
const connected = new Promise((resolve) => {
  events.addEventListener('open', () => {
    if (connections++ > 0) void Promise.all([photos.load(), albums.load()]);
    resolve();
  });
});
events.addEventListener('message', (event) => {
  const message = JSON.parse(event.data);
  if (message.entity === 'Photo') photos.onEvent(message);
  else if (message.entity === 'Album') albums.onEvent(message);
});

await Promise.all([photos.load(), albums.load(), connected]);
// Files dropped from now on have every step of their way shown.
document.body.dataset.ready = 'true';
