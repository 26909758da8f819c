import type { JWTPayload, JWTVerifyGetKey } from "jose";
import { isSubjectToken } from "@threadmesh/protocol";
import { refuse, type AuthResult, type TokenVerifier } from "./authenticator.ts";
import type { TenantStatusCache } from "./tenant-status-cache.ts";
import { MIN_JWT_SECRET_BYTES } from "../config.ts";


type Jose = typeof import("jose");
let joseLoading: Promise<Jose> | undefined;
/** `jose` loads with the first token verified: a router without JWTs never needs it. */
function loadJose(): Promise<Jose> {
  return (joseLoading ??= import("jose"));
}

export interface JwtVerifierOptions {
  /** HS256 shared secret (at least {@link MIN_JWT_SECRET_BYTES} bytes of UTF-8). */
  secret?: string;
  /** JWKS URL for RS256 / ES256 tokens. */
  jwksUrl?: string;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Required `aud` (one of), when set. */
  audience?: string;
  /** Tolerance on `exp`, `nbf` and `iat`, in seconds. */
  clockSkewSeconds: number;
  /** Claim naming the tenant (a subject-safe token). */
  tenantClaim: string;
  /** Claim naming the user; absent means no user. */
  userClaim: string;
  /** Least time between JWKS refetches when a token names an unknown key, in ms. */
  jwksCooldownMs: number;
  /** JWKS older than this is refetched, in ms. */
  jwksMaxAgeMs: number;
  /** Checks that the tenant exists and is active; without it any tenant named by a valid token is accepted. */
  tenants?: TenantStatusCache;
}

/**
 * JWTs verified with `jose`: HS256 with the shared secret, RS256 / ES256 with keys from the JWKS URL
 * (jose caches the set and refetches it when a token names a key it does not hold, so rotated keys are
 * picked up). `exp` is required; `iss`, `aud`, `nbf` are checked with the configured skew.
 */
export class JwtVerifier implements TokenVerifier {
  readonly #opts: JwtVerifierOptions;
  readonly #secret: Uint8Array | undefined;
  #getKey: JWTVerifyGetKey | undefined;
  readonly #algorithms: string[];

  constructor(opts: JwtVerifierOptions) {
    if (opts.secret === undefined && opts.jwksUrl === undefined) throw new Error("a JWT verifier needs a secret or a JWKS URL");
    if (opts.secret !== undefined && Buffer.byteLength(opts.secret, "utf8") < MIN_JWT_SECRET_BYTES) {
      throw new Error(`the JWT secret must be at least ${MIN_JWT_SECRET_BYTES} bytes`);
    }
    this.#opts = opts;
    if (opts.jwksUrl !== undefined) new URL(opts.jwksUrl);
    this.#secret = opts.secret === undefined ? undefined : new TextEncoder().encode(opts.secret);
    this.#algorithms = [...(this.#secret ? ["HS256"] : []), ...(opts.jwksUrl !== undefined ? ["RS256", "ES256"] : [])];
  }

  /** The key lookup, made once jose is loaded; the JWKS it holds caches the key set. */
  #keyLookup({ createRemoteJWKSet, errors }: Jose): JWTVerifyGetKey {
    const secret = this.#secret;
    const opts = this.#opts;
    const jwks =
      opts.jwksUrl === undefined
        ? undefined
        : createRemoteJWKSet(new URL(opts.jwksUrl), { cooldownDuration: opts.jwksCooldownMs, cacheMaxAge: opts.jwksMaxAgeMs });
    return async (header, token) => {
      if (header.alg === "HS256" && secret) return secret;
      if (jwks) return jwks(header, token);
      throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
    };
  }

  async verify(token: string): Promise<AuthResult> {
    const jose = await loadJose();
    this.#getKey ??= this.#keyLookup(jose);
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, this.#getKey, {
        algorithms: this.#algorithms,
        clockTolerance: this.#opts.clockSkewSeconds,
        requiredClaims: ["exp"],
        ...(this.#opts.issuer === undefined ? {} : { issuer: this.#opts.issuer }),
        ...(this.#opts.audience === undefined ? {} : { audience: this.#opts.audience }),
      }));
    } catch (err) {
      return refusalOf(err, jose.errors);
    }
    const tenant = payload[this.#opts.tenantClaim];
    if (typeof tenant !== "string" || !isSubjectToken(tenant)) {
      return refuse("bad_claims", `claim "${this.#opts.tenantClaim}" must name a tenant (1 to 64 characters of A-Z, a-z, 0-9, '_' or '-')`);
    }
    const user = payload[this.#opts.userClaim];
    if (user !== undefined && (typeof user !== "string" || user.length === 0 || user.length > 256)) {
      return refuse("bad_claims", `claim "${this.#opts.userClaim}" must be a string of 1 to 256 characters`);
    }
    const known = await this.#opts.tenants?.lookup(tenant);
    if (known !== undefined && "refusal" in known) return known.refusal;
    return {
      ok: true,
      principal: {
        tenant,
        method: "jwt",
        scopes: scopesOf(payload),
        ...(user === undefined ? {} : { user }),
        ...(known === undefined ? {} : { priorityClass: known.priorityClass }),
      },
    };
  }
}

/** `scope` (space-separated, RFC 8693) or `scp` (a list). */
function scopesOf(payload: JWTPayload): string[] {
  if (typeof payload.scope === "string") return payload.scope.split(" ").filter(Boolean);
  if (Array.isArray(payload.scp)) return payload.scp.filter((s): s is string => typeof s === "string");
  return [];
}

function refusalOf(err: unknown, errors: Jose["errors"]): AuthResult {
  if (err instanceof errors.JWTExpired) return refuse("expired", "token expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf" || (err.claim === "iat" && err.reason === "check_failed")) return refuse("not_yet_valid", "token not yet valid");
    if (err.claim === "iss") return refuse("bad_issuer", "unexpected token issuer");
    if (err.claim === "aud") return refuse("bad_audience", "unexpected token audience");
    return refuse("bad_claims", `bad "${err.claim}" claim`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return refuse("bad_signature", "token signature does not verify");
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return refuse("unknown_key", "no key of the key set matches the token");
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return refuse("bad_algorithm", "token algorithm not accepted");
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || (err instanceof Error && !(err instanceof errors.JOSEError))) {
    return refuse("unavailable", "key set unavailable; retry later");
  }
  return refuse("malformed", "malformed token");
}
