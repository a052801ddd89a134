import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import type { Page } from 'playwright-core';

/** The checkout's root, where node_modules is (this file runs from build/test/support). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The upload clients users drop into their pages, as published: nothing of ours in between. */
export const UPLOAD_CLIENT_PACKAGES = [
  '@uppy/core',
  '@uppy/aws-s3',
  '@uppy/tus',
  '@uppy/xhr-upload',
  'tus-js-client',
] as const;

// One global for the page, as a <script> tag from a CDN would give: the packages' own exports.
const ENTRY = `
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
import Tus from '@uppy/tus';
import XHRUpload from '@uppy/xhr-upload';
import * as tus from 'tus-js-client';
globalThis.UploadClients = { Uppy, AwsS3, Tus, XHRUpload, tus };
`;

let bundled: Promise<string> | undefined;

/**
 * The real Uppy 6 plugins and tus-js-client, bundled for the browser by esbuild from the
 * installed packages, once per process. In the page they are `globalThis.UploadClients`:
 * `{ Uppy, AwsS3, Tus, XHRUpload, tus }`.
 */
export function uploadClientsBundle(): Promise<string> {
  bundled ??= bundleForPage({ stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js' } });
  return bundled;
}

/**
 * A page script of the tests (ES module source importing the clients by their package names),
 * bundled by esbuild from the installed packages as an app's bundler would bundle it.
 * `file` is relative to the checkout's root.
 */
export function bundlePageScript(file: string): Promise<string> {
  return bundleForPage({ entryPoints: [`${ROOT}${file}`] });
}

/** One script for a page, as a `<script>` tag holds it, from what `input` imports. */
async function bundleForPage(input: Pick<BuildOptions, 'stdin' | 'entryPoints'>): Promise<string> {
  const result = await build({
    ...input,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** Adds the bundle to a page that is already open at the app's origin. */
export async function addUploadClients(page: Page): Promise<void> {
  await page.addScriptTag({ content: await uploadClientsBundle() });
}

/** `name@version` of each client package as installed, for a test's name and the notes. */
export function uploadClientVersions(): string[] {
  return UPLOAD_CLIENT_PACKAGES.map((name) => {
    const manifest: unknown = JSON.parse(
      readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8'),
    );
    const version =
      typeof manifest === 'object' && manifest !== null && 'version' in manifest
        ? String(manifest.version)
        : '?';
    return `${name}@${version}`;
  });
}
