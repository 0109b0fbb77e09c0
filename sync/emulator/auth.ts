/** OAuth 2.0 token endpoint (client credentials, password, refresh token, JWT bearer, authorization code) and SOAP login. */
import { createHash, createHmac, createPublicKey, randomBytes, timingSafeEqual, verify, type KeyObject } from 'node:crypto'
import { OAuthError } from './errors.js'
import type { EmulatorStore } from './store.js'

export interface AuthOptions {
  /** The connected app: only this client id and secret are accepted. */
  clientId: string
  clientSecret: string
  /** PEM public key: JWT bearer assertions must carry a valid RS256 signature from its private key. */
  jwtPublicKey?: string
  /** Without `jwtPublicKey`, accept unsigned JWT assertions (test mode only: anyone could forge one). */
  unsignedAssertions: boolean
  tokenTtlSeconds: number
  /** The user client-credentials tokens run as. */
  integrationUserId: () => string
}

export interface TokenResponse {
  access_token: string
  refresh_token?: string
  instance_url: string
  id: string
  token_type: 'Bearer'
  issued_at: string
  signature: string
  scope?: string
}

const b64url = (buf: Buffer) => buf.toString('base64url')

/** Compares two secrets in constant time (hashed first, so their lengths leak nothing either). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()
  return timingSafeEqual(digest(given), digest(expected))
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export class Auth {
  private readonly publicKey: KeyObject | null

  constructor(private readonly store: EmulatorStore, private readonly opts: AuthOptions, private readonly clock: () => Date) {
    this.publicKey = opts.jwtPublicKey ? createPublicKey(opts.jwtPublicKey) : null
  }

  private newAccessToken(userId: string, clientId: string | null): string {
    const token = `${this.store.orgId.slice(0, 15)}!AQ${b64url(randomBytes(36))}`
    this.store.addToken({ token, kind: 'access', userId, clientId, expiresAt: this.clock().getTime() + this.opts.tokenTtlSeconds * 1000 })
    return token
  }

  private newRefreshToken(userId: string, clientId: string | null): string {
    const token = `5Aep8${b64url(randomBytes(48))}`
    this.store.addToken({ token, kind: 'refresh', userId, clientId, expiresAt: null })
    return token
  }

  /** The user a live access token belongs to, or null (missing, unknown, expired or revoked). */
  userForToken(authorization: string | undefined, queryToken?: string): string | null {
    const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(authorization ?? '')
    const token = m?.[1]?.trim() ?? queryToken
    if (!token) return null
    const row = this.store.getToken(token)
    if (!row || row.kind !== 'access') return null
    if (row.expiresAt !== null && row.expiresAt <= this.clock().getTime()) return null
    return row.userId
  }

  revoke(token: string): void {
    this.store.dropToken(token)
  }

  /** Salesforce's answers: an unknown client id is `invalid_client_id`, a wrong or missing secret `invalid_client` (both 400). */
  private checkClient(clientId: string | undefined, clientSecret: string | undefined, needSecret: boolean): void {
    if (typeof clientId !== 'string' || !sameSecret(clientId, this.opts.clientId)) throw new OAuthError(400, 'invalid_client_id', 'client identifier invalid')
    if (needSecret && !clientSecret) throw new OAuthError(400, 'invalid_client', 'invalid client credentials')
    if (clientSecret !== undefined && (typeof clientSecret !== 'string' || !sameSecret(clientSecret, this.opts.clientSecret))) {
      throw new OAuthError(400, 'invalid_client', 'invalid client credentials')
    }
  }

  private userByUsername(username: string | undefined): { id: string; active: boolean } | null {
    if (!username) return null
    const user = this.store.schema.get('user')!
    const id = this.store.findBy(user, 'Username', username)[0]
    const rec = id ? this.store.get(id) : undefined
    return rec ? { id: rec.id, active: rec.data.IsActive !== false } : null
  }

  private response(baseUrl: string, userId: string, clientId: string | null, withRefresh: boolean): TokenResponse {
    const issuedAt = String(this.clock().getTime())
    const id = `${baseUrl}/id/${this.store.orgId}/${userId}`
    const res: TokenResponse = {
      access_token: this.newAccessToken(userId, clientId),
      instance_url: baseUrl,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
      signature: createHmac('sha256', this.opts.clientSecret).update(id + issuedAt).digest('base64'),
      scope: 'api'
    }
    if (withRefresh) {
      res.refresh_token = this.newRefreshToken(userId, clientId)
      res.scope = 'api refresh_token'
    }
    return res
  }

  /** POST /services/oauth2/token */
  token(params: Record<string, string | undefined>, baseUrl: string): TokenResponse {
    const grant = params.grant_type
    switch (grant) {
      case 'client_credentials': {
        this.checkClient(params.client_id, params.client_secret, true)
        return this.response(baseUrl, this.opts.integrationUserId(), params.client_id ?? null, false)
      }
      case 'password': {
        this.checkClient(params.client_id, params.client_secret, true)
        const user = this.userByUsername(params.username)
        if (!user || !user.active || !this.store.checkPassword(user.id, params.password ?? '')) {
          throw new OAuthError(400, 'invalid_grant', 'authentication failure')
        }
        return this.response(baseUrl, user.id, params.client_id ?? null, false)
      }
      case 'refresh_token': {
        this.checkClient(params.client_id, params.client_secret, false)
        const row = params.refresh_token ? this.store.getToken(params.refresh_token) : undefined
        if (!row || row.kind !== 'refresh') throw new OAuthError(400, 'invalid_grant', 'expired access/refresh token')
        return this.response(baseUrl, row.userId, params.client_id ?? null, false)
      }
      case 'authorization_code': {
        // the code alone is not enough: the web server flow needs the app's secret too
        this.checkClient(params.client_id, params.client_secret, true)
        const row = params.code ? this.store.getToken(params.code) : undefined
        if (!row || row.kind !== 'code' || (row.expiresAt !== null && row.expiresAt <= this.clock().getTime())) {
          throw new OAuthError(400, 'invalid_grant', 'invalid authorization code')
        }
        this.store.dropToken(row.token)
        return this.response(baseUrl, row.userId, params.client_id ?? null, true)
      }
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer': {
        const claims = this.verifyAssertion(params.assertion)
        this.checkClient(claims.iss, undefined, false)
        const user = this.userByUsername(claims.sub)
        if (!user || !user.active) throw new OAuthError(400, 'invalid_grant', 'user hasn\'t approved this consumer')
        return this.response(baseUrl, user.id, claims.iss ?? null, false)
      }
      default:
        throw new OAuthError(400, 'unsupported_grant_type', 'grant type not supported')
    }
  }

  private verifyAssertion(assertion: string | undefined): { iss?: string; sub?: string; aud?: string; exp?: number } {
    const parts = (assertion ?? '').split('.')
    if (parts.length !== 3) throw new OAuthError(400, 'invalid_grant', 'invalid assertion')
    let claims: { iss?: string; sub?: string; aud?: string; exp?: number }
    let header: { alg?: string }
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: string }
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as typeof claims
    } catch {
      throw new OAuthError(400, 'invalid_grant', 'invalid assertion')
    }
    // with no key to check it against, only a test double may take an assertion on trust
    if (!this.publicKey && !this.opts.unsignedAssertions) throw new OAuthError(400, 'invalid_grant', 'invalid assertion')
    if (this.publicKey) {
      const ok = header.alg === 'RS256' && verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], 'base64url'))
      if (!ok) throw new OAuthError(400, 'invalid_grant', 'invalid assertion')
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.clock().getTime()) {
      throw new OAuthError(400, 'invalid_grant', 'expired authorization code')
    }
    return claims
  }

  /** GET /services/oauth2/authorize: the emulator approves at once, for `login_hint` (or the integration user). */
  authorizeCode(params: Record<string, string | undefined>): string {
    this.checkClient(params.client_id, undefined, false)
    if (params.response_type !== 'code' || !params.redirect_uri) throw new OAuthError(400, 'unsupported_response_type', 'response type not supported')
    const user = params.login_hint ? this.userByUsername(params.login_hint) : { id: this.opts.integrationUserId(), active: true }
    if (!user || !user.active) throw new OAuthError(400, 'invalid_request', 'unknown login_hint')
    const code = `aPrx${b64url(randomBytes(32))}`
    this.store.addToken({ token: code, kind: 'code', userId: user.id, clientId: params.client_id ?? null, expiresAt: this.clock().getTime() + 15 * 60_000 })
    const url = new URL(params.redirect_uri)
    url.searchParams.set('code', code)
    if (params.state) url.searchParams.set('state', params.state)
    return url.toString()
  }

  /** POST /services/Soap/u/{version}: login (jsforce's `conn.login` without a client secret) and logout. */
  soap(xml: string, baseUrl: string, version: string): { status: number; body: string } {
    const envelope = (inner: string) =>
      `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`
    const tag = (name: string) => {
      const m = new RegExp(`<(?:\\w+:)?${name}>([\\s\\S]*?)</(?:\\w+:)?${name}>`).exec(xml)
      return m ? unescapeXml(m[1]) : undefined
    }
    if (/<(?:\w+:)?logout[\s/>]/.test(xml)) {
      const session = tag('sessionId')
      if (session) this.revoke(session)
      return { status: 200, body: envelope('<logoutResponse/>') }
    }
    const user = this.userByUsername(tag('username'))
    if (!user || !user.active || !this.store.checkPassword(user.id, tag('password') ?? '')) {
      const msg = 'Invalid username, password, security token; or user locked out.'
      return {
        status: 500,
        body: envelope(`<soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: ${msg}</faultstring><detail><sf:LoginFault xmlns:sf="urn:fault.partner.soap.sforce.com" xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>${msg}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>`)
      }
    }
    const rec = this.store.get(user.id)!.data
    const session = this.newAccessToken(user.id, null)
    const org = this.store.orgId
    const result = [
      `<metadataServerUrl>${baseUrl}/services/Soap/m/${version}/${org}</metadataServerUrl>`,
      '<passwordExpired>false</passwordExpired>',
      '<sandbox>false</sandbox>',
      `<serverUrl>${baseUrl}/services/Soap/u/${version}/${org}</serverUrl>`,
      `<sessionId>${session}</sessionId>`,
      `<userId>${user.id}</userId>`,
      '<userInfo>',
      `<organizationId>${org}</organizationId>`,
      '<organizationName>Casebridge Emulator</organizationName>',
      `<sessionSecondsValid>${this.opts.tokenTtlSeconds}</sessionSecondsValid>`,
      `<userEmail>${escapeXml(String(rec.Email ?? ''))}</userEmail>`,
      `<userFullName>${escapeXml(String(rec.Name ?? ''))}</userFullName>`,
      `<userId>${user.id}</userId>`,
      `<userName>${escapeXml(String(rec.Username))}</userName>`,
      '</userInfo>'
    ].join('')
    return { status: 200, body: envelope(`<loginResponse><result>${result}</result></loginResponse>`) }
  }
}
