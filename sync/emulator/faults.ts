/** Fault injection: what tests (in-process or over HTTP) make the emulator do wrong. */

export type DownMode = false | '503' | 'refuse'

export interface FaultState {
  latencyMs: number
  failNext: number
  failStatus: number
  lockNextWrites: number
  down: DownMode
  apiUsage: { used: number; max: number }
  requestLimitExceeded: boolean
}

/** The JSON accepted by POST /__emulator/faults (every key optional, applied in this order). */
export interface FaultCommand {
  clear?: boolean
  latencyMs?: number
  failNext?: number
  failStatus?: number
  lockNextWrites?: number
  requestLimit?: boolean
  resetUsage?: boolean
  apiLimit?: number
  expireTokens?: boolean
  down?: DownMode | boolean
  downForMs?: number
}

/** How the emulator closes and reopens its listening socket for `down('refuse')`. */
export interface Listener {
  close(): Promise<void>
  reopen(): Promise<void>
}

export class Faults {
  latencyMs = 0
  private failCount = 0
  private failStatusCode = 503
  private lockCount = 0
  private downMode: DownMode = false
  private upTimer: NodeJS.Timeout | null = null
  used = 0
  max: number
  listener: Listener | null = null

  constructor(apiLimit: number, private readonly onExpireTokens: () => void) {
    this.max = apiLimit
  }

  /** Adds `ms` of latency to every request (0 to stop). */
  latency(ms: number): this {
    this.latencyMs = Math.max(0, ms)
    return this
  }

  /** The next `n` API calls answer `status` (503 by default) without doing anything. */
  failNext(n: number, status = 503): this {
    this.failCount = Math.max(0, n)
    this.failStatusCode = status
    return this
  }

  /** Consumes one injected failure; returns its status, or null when the call goes through. */
  takeFailure(): number | null {
    if (this.failCount <= 0) return null
    this.failCount--
    return this.failStatusCode
  }

  /** The next `n` record writes fail with UNABLE_TO_LOCK_ROW (per record, also inside collections). */
  lockNextWrites(n: number): this {
    this.lockCount = Math.max(0, n)
    return this
  }

  takeLockFault(): boolean {
    if (this.lockCount <= 0) return false
    this.lockCount--
    return true
  }

  /** Uses up the daily API allowance: every API call answers REQUEST_LIMIT_EXCEEDED until resetUsage(). */
  exhaustApiLimit(): this {
    this.used = Math.max(this.used, this.max)
    return this
  }

  resetUsage(): this {
    this.used = 0
    return this
  }

  private usageDay: string | null = null

  /** The allowance starts afresh each UTC day (Salesforce's is a rolling 24 hours). */
  rollDay(now: Date): void {
    const day = now.toISOString().slice(0, 10)
    if (this.usageDay !== null && this.usageDay !== day) this.used = 0
    this.usageDay = day
  }

  setApiLimit(max: number): this {
    this.max = max
    return this
  }

  get limitExceeded(): boolean {
    return this.used >= this.max
  }

  /** Every access token issued so far stops working now (clients must refresh). */
  expireTokens(): this {
    this.onExpireTokens()
    return this
  }

  /** '503': every request answers 503; 'refuse': the listening socket closes (connection refused). */
  async down(mode: Exclude<DownMode, false> = '503', forMs?: number): Promise<this> {
    if (this.upTimer) clearTimeout(this.upTimer)
    this.upTimer = null
    if (mode === 'refuse') {
      if (!this.listener) throw new Error("down('refuse') needs a listening emulator (startEmulator or app.listen)")
      if (this.downMode !== 'refuse') await this.listener.close()
    }
    this.downMode = mode
    if (forMs !== undefined) {
      this.upTimer = setTimeout(() => void this.up(), forMs)
      this.upTimer.unref()
    }
    return this
  }

  async up(): Promise<this> {
    if (this.upTimer) clearTimeout(this.upTimer)
    this.upTimer = null
    const was = this.downMode
    this.downMode = false
    if (was === 'refuse' && this.listener) await this.listener.reopen()
    return this
  }

  get isDown(): DownMode {
    return this.downMode
  }

  /** Back to normal: no latency, failures, locks or outage; API usage untouched. */
  async clear(): Promise<this> {
    this.latencyMs = 0
    this.failCount = 0
    this.lockCount = 0
    await this.up()
    return this
  }

  state(): FaultState {
    return {
      latencyMs: this.latencyMs,
      failNext: this.failCount,
      failStatus: this.failStatusCode,
      lockNextWrites: this.lockCount,
      down: this.downMode,
      apiUsage: { used: this.used, max: this.max },
      requestLimitExceeded: this.limitExceeded
    }
  }

  /** Applies a JSON command (the HTTP fault API). */
  async apply(cmd: FaultCommand): Promise<FaultState> {
    if (cmd.clear) await this.clear()
    if (typeof cmd.latencyMs === 'number') this.latency(cmd.latencyMs)
    if (typeof cmd.failNext === 'number') this.failNext(cmd.failNext, typeof cmd.failStatus === 'number' ? cmd.failStatus : 503)
    if (typeof cmd.lockNextWrites === 'number') this.lockNextWrites(cmd.lockNextWrites)
    if (typeof cmd.apiLimit === 'number') this.setApiLimit(cmd.apiLimit)
    if (cmd.resetUsage) this.resetUsage()
    if (cmd.requestLimit) this.exhaustApiLimit()
    if (cmd.expireTokens) this.expireTokens()
    if (cmd.down === false) await this.up()
    else if (cmd.down === true || cmd.down === '503' || cmd.down === 'refuse') {
      await this.down(cmd.down === true ? '503' : cmd.down, typeof cmd.downForMs === 'number' ? cmd.downForMs : undefined)
    }
    return this.state()
  }

  dispose(): void {
    if (this.upTimer) clearTimeout(this.upTimer)
    this.upTimer = null
  }
}
