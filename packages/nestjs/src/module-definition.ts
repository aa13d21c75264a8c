import { ConfigurableModuleBuilder } from '@nestjs/common'
import type { CachelockModuleExtras, CachelockModuleOptions } from './options.js'

/** Nest's own dynamic-module builder makes `forRoot` and `forRootAsync` (useFactory, useClass, useExisting). */
export const {
  ConfigurableModuleClass: ConfigurableCachelockModule,
  MODULE_OPTIONS_TOKEN: CACHELOCK_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CachelockModuleOptions>({ moduleName: 'Cachelock' })
  .setClassMethodName('forRoot')
  .setExtras<CachelockModuleExtras>({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal ?? true }))
  .build()
