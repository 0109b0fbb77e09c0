import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import type { Db } from './db/index.js'
import { systemClock, type Clock } from './domain/clock.js'
import external from './plugins/external.js'
import appPlugins from './plugins/app.js'
import metrics from './plugins/metrics.js'
import live from './plugins/live.js'
import health from './routes/health.js'
import web from './routes/web.js'
import apiV1 from './routes/api/v1/index.js'
import { loggerOptions, type Logger } from './log.js'

export interface AppOptions {
  config: Config
  db: Db
  clock?: Clock
  random?: () => number
  /** The root logger (server), false for silence (tests), or default options. */
  logger?: Logger | false
}

/**
 * Fastify's own schema compilers, shared by every app this process builds: its Ajv instance
 * compiles each route schema (module-level constants) once and remembers it by identity, and the
 * response serializers are kept the same way. One server builds one app, so this changes nothing
 * there; the tests build hundreds per process, and compiling every schema again cost each about
 * 0.1 s. Only schemas without shared (addSchema) references are cached; there are none.
 */
const sharedValidators = AjvCompiler()
const makeSerializerFactory = SerializerSelector()
const serializers = new WeakMap<object, unknown>()
const sharedSchemaController: NonNullable<FastifyServerOptions['schemaController']> = {
  compilersFactory: {
    buildValidator: sharedValidators,
    buildSerializer: (externalSchemas, options) => {
      const compile = makeSerializerFactory(externalSchemas, options)
      if (Object.keys(externalSchemas ?? {}).length > 0) return compile
      return (route) => {
        const key = route.schema as object
        let fn = serializers.get(key)
        if (fn === undefined) serializers.set(key, (fn = compile(route)))
        return fn as ReturnType<typeof compile>
      }
    }
  }
}

/** The whole web role as one Fastify instance: external plugins, app plugins, then routes. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: opts.logger === false ? false : loggerOptions(config.LOG_LEVEL) }),
    trustProxy: config.TRUST_PROXY,
    bodyLimit: 2 * 1024 * 1024,
    schemaController: sharedSchemaController
  }).withTypeProvider<TypeBoxTypeProvider>()

  await app.register(external, { config, db: opts.db, clock: opts.clock ?? systemClock, random: opts.random ?? Math.random })
  await app.register(appPlugins)
  await app.register(live)
  // Before the routes, so its timing hook covers every one of them; outside the site's session/CSRF scope.
  await app.register(metrics)
  await app.register(health)
  await app.register(apiV1, { prefix: '/api/v1' })
  await app.register(web)
  return app as unknown as FastifyInstance
}
