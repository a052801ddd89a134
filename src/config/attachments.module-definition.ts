import { ConfigurableModuleBuilder } from '@nestjs/common';
import type {
  AttachmentsControllerOptions,
  AttachmentsModuleOptions,
} from './attachments-module-options.js';

/** Options that shape the module itself, so they are given directly, even to forRootAsync. */
export interface AttachmentsModuleExtras {
  isGlobal?: boolean;
  /** The upload and files controller; `false` leaves it out so the app can mount its own. */
  controller?: false | AttachmentsControllerOptions;
}

export const {
  ConfigurableModuleClass: ConfigurableAttachmentsModule,
  MODULE_OPTIONS_TOKEN: ATTACHMENTS_MODULE_OPTIONS,
  OPTIONS_TYPE: ATTACHMENTS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ATTACHMENTS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AttachmentsModuleOptions>({ moduleName: 'Attachments' })
  .setClassMethodName('forRoot')
  .setExtras<AttachmentsModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
