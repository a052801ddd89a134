import type { Provider } from '@nestjs/common';
import { AttachmentLifecycleSubscriber } from './attachment-lifecycle.subscriber.js';
import { AttachmentWorkBuilder } from './attachment-work-builder.js';
import { FreshAttachments } from './fresh-attachments.js';
import { TransactionWork } from './transaction-work.js';

export const LIFECYCLE_PROVIDERS: Provider[] = [
  AttachmentLifecycleSubscriber,
  AttachmentWorkBuilder,
  FreshAttachments,
  TransactionWork,
];
