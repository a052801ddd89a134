import { access, constants } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); playwright never downloads a browser here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium through playwright-core. The flags keep it from reaching the network on its
 * own (updates, sync) and let it run as root in a container (no sandbox, no GPU).
 */
export async function launchBrowser(): Promise<Browser> {
  const found = await access(CHROMIUM, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!found) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set ` +
        'CHROMIUM_PATH. The browser tests never download a browser (no `playwright install`).',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
