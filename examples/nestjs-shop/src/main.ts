import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import { AppModule } from './app.module.js'
import { settings } from './settings.js'
import { prepareDatabase } from './shop/database.js'

prepareDatabase(settings.database)
const app = await NestFactory.create(AppModule)
// On SIGTERM/SIGINT: stop taking requests, let CachelockModule wait for held locks, close the store.
app.enableShutdownHooks()
await app.listen(settings.port, '127.0.0.1')
console.log(`${settings.instance} listening on ${await app.getUrl()}`)
