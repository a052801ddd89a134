import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AttachmentsModuleOptions } from './interfaces/attachments-module-options.interface.js';

export const {
  ConfigurableModuleClass: ConfigurableAttachmentsModule,
  MODULE_OPTIONS_TOKEN: ATTACHMENTS_MODULE_OPTIONS,
  OPTIONS_TYPE: ATTACHMENTS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: ATTACHMENTS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AttachmentsModuleOptions>({ moduleName: 'Attachments' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
