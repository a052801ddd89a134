import type { Page, Request } from 'playwright-core';

// These callbacks run in Chromium; the tests compile without the DOM library, so the little
// they use is declared (as in browser.test.ts).
interface InPageElement {
  dataset: Record<string, string | undefined>;
}
declare const document: {
  body: InPageElement;
  addEventListener(type: string, listener: (event: { detail: Progress }) => void): void;
};
declare const window: { progress: Progress[] };

interface Progress {
  percent: number;
  total: number;
}

export const isPhotosPost = (request: Request) =>
  request.method() === 'POST' && new URL(request.url()).pathname === '/photos';

/**
 * Opens the sample page and waits until it is ready (its event stream open), counting the
 * progress its uploads report in `window.progress`.
 */
export async function openSamplePage(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  await page.evaluate(() => {
    window.progress = [];
    document.addEventListener('sample-upload:progress', (event) => {
      window.progress.push({ percent: event.detail.percent, total: event.detail.total });
    });
  });
}

/** The progress reported since the page was opened, or since the last call. */
export async function progressSoFar(page: Page): Promise<Progress[]> {
  return page.evaluate(() => window.progress.splice(0));
}

/**
 * Does `act` (choosing files), and resolves with the token the app answered for the upload
 * (from `tokenPath`: the upload endpoint, or the presigned request in S3 mode) and the JSON body
 * of the POST /photos the page sent once the upload was done.
 */
export async function savedWithToken(page: Page, tokenPath: string, act: () => Promise<void>) {
  const answered = page.waitForResponse(
    (response) => new URL(response.url()).pathname === tokenPath,
  );
  const posted = page.waitForRequest(isPhotosPost);
  await act();
  const { token } = (await (await answered).json()) as { token: string };
  const request = await posted;
  return { token, body: request.postDataJSON() as unknown, request };
}
