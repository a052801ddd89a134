// Sends a file to the cache with the library's browser client: through the app's endpoint, or
// straight to the bucket with a presigned POST in S3 mode. The answer's token is all a record
// needs.
import { uploadFile, uploadFileToStorage } from '/attachments/client.js';

/**
 * @returns {Promise<{ token: string, size: number, url: string | null }>} `url` serves the cached
 *   file (null in S3 mode, where the bucket is private until the app signs a URL).
 */
export async function uploadToCache(file, { mode, entity, attachment, onProgress }) {
  const options = { entity, attachment, onProgress };
  if (mode === 's3') {
    const answer = await uploadFileToStorage(file, options);
    return { token: answer.token, size: file.size, url: null };
  }
  const answer = await uploadFile(file, options);
  return { token: answer.token, size: answer.file.metadata.size, url: answer.url };
}

/** A progress bar for one upload; `report` also tells listeners of `node`. */
export function progressOf(node, bar) {
  return (detail) => {
    bar.value = detail.percent;
    node.dispatchEvent(new CustomEvent('sample-upload:progress', { bubbles: true, detail }));
  };
}
