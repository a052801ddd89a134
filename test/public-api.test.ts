import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Every name an entry point exports, values and types, with whether each is documented. */
function exportsOf(entry: string): { name: string; documented: boolean }[] {
  const program = ts.createProgram([`${root}${entry}`], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    experimentalDecorators: true,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(`${root}${entry}`);
  assert.ok(source, `${entry} was read`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  assert.ok(moduleSymbol);
  return checker.getExportsOfModule(moduleSymbol).map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const documented = (target.declarations ?? []).some(
      (declaration) => ts.getJSDocCommentsAndTags(declaration).length > 0,
    );
    return { name: symbol.name, documented };
  });
}

/**
 * The main entry point, as an app sees it. A name added or removed here is a change of the
 * public API: this list makes it visible in review.
 */
const MAIN = [
  'ATTACHMENTS_QUEUE',
  'Attachment',
  'AttachmentCallbacks',
  'AttachmentConfigurationError',
  'AttachmentError',
  'AttachmentErrorFilter',
  'AttachmentEvent',
  'AttachmentEvents',
  'AttachmentListOptions',
  'AttachmentOptions',
  'AttachmentSerializer',
  'AttachmentState',
  'AttachmentWork',
  'AttachmentWorkService',
  'Attachments',
  'AttachmentsControllerOptions',
  'AttachmentsHealth',
  'AttachmentsHealthReport',
  'AttachmentsJobHooks',
  'AttachmentsModule',
  'AttachmentsModuleOptions',
  'AttachmentsService',
  'AttachmentsTusOptions',
  'AttachmentsUploadOptions',
  'AttachmentsWorkerOptions',
  'AttachOptions',
  'CacheOptions',
  'CachedUpload',
  'DerivativeFunction',
  'DerivativeInput',
  'DerivativeOutput',
  'DerivativeProcessor',
  'EmptyFileError',
  'ExpiredTokenError',
  'FileMetadata',
  'FileNotFoundError',
  'FileRef',
  'FileSystemStorage',
  'FileTooLargeError',
  'FileTypeNotAllowedError',
  'ImageDimensionsError',
  'ImagePlaceholder',
  'ImageTooLargeError',
  'InvalidFileIdError',
  'InvalidFileUrlError',
  'InvalidTokenError',
  'InvalidUploadError',
  'JobStep',
  'JobStepData',
  'LocationStrategy',
  'MalformedImageError',
  'MemoryStorage',
  'RegenerateOptions',
  'SerializedAttachment',
  'Storage',
  'SweepResult',
  'TokenAlreadyUsedError',
  'TokenOwnerMismatchError',
  'TooManyFilesError',
  'UploadResponse',
  'UploadTimeoutError',
  'UploadedFile',
  'attachmentEntities',
  'attachmentErrorStatus',
  'chainDerivatives',
  'isUploadedFile',
];

describe('the public API', () => {
  it('is the names an app uses, no more, each documented', () => {
    const found = exportsOf('src/index.ts');
    assert.deepEqual(
      found.map(({ name }) => name).sort(),
      [...MAIN].sort(),
      'src/index.ts exports these names',
    );
    // Raised by 2 for the refusals attach() and cache() throw on a file's bytes (empty, too many
    // pixels, not a whole image), which apps catch as they catch FileTooLargeError; by 2 more
    // for images outside their dimension rules, and the placeholder type their metadata holds;
    // by 2 for the health probe and its report, which a health endpoint needs without terminus.
    assert.ok(found.length <= 66, `${found.length} names`);
    const undocumented = found.filter(({ documented }) => !documented).map(({ name }) => name);
    assert.deepEqual(undocumented, [], 'every export has a doc comment');
  });

  it('gives each subpath its own small API', () => {
    const names = (entry: string) =>
      exportsOf(entry)
        .map(({ name }) => name)
        .sort();
    assert.deepEqual(names('src/s3/index.ts'), [
      'ChecksumSetting',
      'S3Storage',
      'S3StorageOptions',
    ]);
    assert.deepEqual(names('src/derivatives/preview.ts'), [
      'ImageTooLargeError',
      'PdfPreviewOptions',
      'PreviewFailedError',
      'PreviewInputTooLargeError',
      'PreviewOptions',
      'PreviewTimeoutError',
      'PreviewToolMissingError',
      'VideoPosterOptions',
      'pdfPreview',
      'videoPoster',
    ]);
    assert.ok(names('src/testing/index.ts').includes('storageContract'));
    assert.ok(names('src/storage/authoring.ts').includes('resolveByteRange'));
    assert.deepEqual(names('src/http/validation.ts'), ['IsUploadToken', 'UploadTokenConstraint']);
    assert.deepEqual(names('src/http/upload-token-schema.ts'), [
      'UploadTokenCheckOptions',
      'uploadTokenProblem',
      'uploadTokenSchema',
    ]);
    assert.ok(
      !names('src/index.ts').includes('IsUploadToken'),
      'class-validator stays out of the main entry',
    );
    assert.ok(
      !names('src/index.ts').includes('S3Storage'),
      'the AWS SDK stays out of the main entry',
    );
  });
});
