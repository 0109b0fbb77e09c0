// The one scheduler of background work: a task runs every `intervalMs`, never overlapping itself;
// `runNow` asks for a run at once (after the running one); `stop` waits for the running one.
import type { Logger } from '../log.js'

export interface Schedule<T> {
  /** Runs the task now, after any run in progress; the schedule carries on from there. */
  runNow(): Promise<T>
  stop(): Promise<void>
}

export interface ScheduleOptions {
  log: Logger
  /** Named in the log when a run fails. */
  name?: string
  /** Start with a run at once (default) or wait a first interval. */
  startNow?: boolean
}

export function every<T>(intervalMs: number, task: () => Promise<T>, opts: ScheduleOptions): Schedule<T> {
  let timer: NodeJS.Timeout | null = null
  let running: Promise<unknown> | null = null
  let stopped = false

  const run = (): Promise<T> => {
    const previous = running ?? Promise.resolve()
    const next = previous.then(() => task())
    const settled = next.catch(() => undefined).finally(() => {
      if (running === settled) running = null
    })
    running = settled
    return next
  }
  const tick = () => {
    timer = null
    run().catch((err) => opts.log.error({ err, task: opts.name }, 'scheduled task failed')).finally(() => {
      if (!stopped && timer === null) timer = setTimeout(tick, intervalMs)
    })
  }
  timer = setTimeout(tick, opts.startNow === false ? intervalMs : 0)

  return {
    runNow: run,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      timer = null
      if (running) await running
    }
  }
}
