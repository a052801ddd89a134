import type { Page } from 'playwright-core';

// These callbacks run in Chromium; the tests compile without the DOM library, so the little
// they use is declared (as in browser.test.ts).
interface InPageElement {
  value: number | string;
  max: number;
}
declare const document: { querySelector(selector: string): InPageElement | null };
declare const FormData: new (form: InPageElement) => { get(name: string): unknown };

/**
 * Waits until the sample page's upload bar is full and its form holds the upload's token in
 * place of the file, and returns that token.
 */
export async function tokenOnceUploaded(page: Page): Promise<string> {
  await page.waitForFunction(() => {
    const progress = document.querySelector('[data-testid="progress"]');
    return progress !== null && progress.max > 0 && progress.value === progress.max;
  });
  const token = await page.waitForFunction(() => {
    const value = new FormData(document.querySelector('[data-testid="photo-form"]')!).get('image');
    return typeof value === 'string' && value !== '' ? value : null;
  });
  return String(await token.jsonValue());
}
