/**
 * Every configuration key of the `threadmesh` command: its environment variable, its flag, its
 * default and what it means. `loadConfig` reads this table once; nothing else reads `process.env`.
 */
import { DEFAULT_LIMITS as L } from "@threadmesh/protocol";

export type OptionKind = "string" | "int" | "bool" | "list" | "number";

export interface OptionSpec {
  key: string;
  env: string;
  flag: string;
  kind: OptionKind;
  default: string | number | boolean | string[] | null;
  /** Default under `threadmesh dev` (one operator on their own machine), when it differs. */
  devDefault?: string | number | boolean | string[] | null;
  help: string;
  /** Commands that read this option. */
  commands: readonly Command[];
  /** Allowed values (strings; for lists, of each element). */
  choices?: readonly string[];
  min?: number;
  max?: number;
}

export type Command = "dev" | "router" | "host" | "migrate" | "model-sim" | "admin-server" | "admin";

const ALL: readonly Command[] = ["dev", "router", "host", "migrate", "model-sim", "admin-server"];
const SERVING: readonly Command[] = ["dev", "router", "host"];
const ROUTERS: readonly Command[] = ["dev", "router"];
const HOSTS: readonly Command[] = ["dev", "host"];
const STORE: readonly Command[] = ["dev", "router", "host", "migrate", "admin-server"];
/** Commands serving the admin API, and the admin client. */
const ADMIN_SERVERS: readonly Command[] = ["dev", "admin-server"];
const ADMIN: readonly Command[] = ["dev", "admin-server", "admin"];

export const OPTIONS: readonly OptionSpec[] = [
  { key: "databaseUrl", env: "DATABASE_URL", flag: "--database-url", kind: "string", default: "sqlite:./data/threadmesh.db", help: "sqlite:<file> (embedded) or postgres://… (distributed)", commands: STORE },
  { key: "createDatabase", env: "THREADMESH_CREATE_DATABASE", flag: "--create-database", kind: "bool", default: false, help: "migrate: create the PostgreSQL database DATABASE_URL names when it is missing (through the server's `postgres` database; the role needs CREATEDB)", commands: ["migrate"] },
  { key: "natsUrl", env: "NATS_URL", flag: "--nats-url", kind: "string", default: "nats://127.0.0.1:4222", help: "NATS server(s), comma-separated (router, host, admin-server)", commands: ["router", "host", "admin-server"] },
  { key: "logLevel", env: "THREADMESH_LOG_LEVEL", flag: "--log-level", kind: "string", default: "info", choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], help: "log level (JSON logs on stderr)", commands: ALL },
  { key: "host", env: "THREADMESH_HOST", flag: "--host", kind: "string", default: "127.0.0.1", help: "address the WebSocket listener binds", commands: ROUTERS },
  { key: "port", env: "THREADMESH_PORT", flag: "--port", kind: "int", default: 8765, min: 0, max: 65535, help: "WebSocket port (0 = ephemeral)", commands: ROUTERS },
  { key: "gatewayPort", env: "THREADMESH_GATEWAY_PORT", flag: "--gateway-port", kind: "int", default: null, min: 0, max: 65535, help: "port of the partner gRPC gateway (threadmesh.gateway.v1.Gateway: JSON-RPC frames over a bidirectional stream, same credentials as the WebSocket port) on THREADMESH_HOST; 0 = ephemeral; unset: not served", commands: ROUTERS },
  { key: "token", env: "THREADMESH_TOKEN", flag: "--token", kind: "string", default: null, help: "capability token clients send as `Authorization: Bearer`; dev generates one when unset", commands: ROUTERS },
  { key: "devMode", env: "THREADMESH_DEV_MODE", flag: "--dev-mode", kind: "bool", default: false, help: "allow unauthenticated loopback connections (always on for `dev`)", commands: ROUTERS },
  { key: "defaultTenant", env: "THREADMESH_DEFAULT_TENANT", flag: "--default-tenant", kind: "string", default: "default", help: "tenant of the capability token (THREADMESH_TOKEN) and of unauthenticated loopback connections in dev mode; `dev` creates it with an API key", commands: ROUTERS },
  { key: "jwtSecret", env: "THREADMESH_JWT_SECRET", flag: "--jwt-secret", kind: "string", default: null, help: "HS256 secret of accepted JWTs, at least 32 bytes (JWTs are off without it and without THREADMESH_JWKS_URL)", commands: ROUTERS },
  { key: "jwksUrl", env: "THREADMESH_JWKS_URL", flag: "--jwks-url", kind: "string", default: null, help: "JWKS URL of the RS256 / ES256 keys of accepted JWTs (cached; a token naming a key the cache lacks refetches it, at most every 30 s)", commands: ROUTERS },
  { key: "jwtIssuer", env: "THREADMESH_JWT_ISSUER", flag: "--jwt-issuer", kind: "string", default: null, help: "required JWT `iss` (unset: not checked)", commands: ROUTERS },
  { key: "jwtAudience", env: "THREADMESH_JWT_AUDIENCE", flag: "--jwt-audience", kind: "string", default: null, help: "required JWT `aud` (unset: not checked)", commands: ROUTERS },
  { key: "jwtClockSkewS", env: "THREADMESH_JWT_CLOCK_SKEW_S", flag: "--jwt-clock-skew-s", kind: "int", default: 30, min: 0, max: 3_600, help: "tolerance on JWT `exp`, `nbf` and `iat`, seconds", commands: ROUTERS },
  { key: "jwtTenantClaim", env: "THREADMESH_JWT_TENANT_CLAIM", flag: "--jwt-tenant-claim", kind: "string", default: "tenant", help: "JWT claim naming the connection's tenant", commands: ROUTERS },
  { key: "jwtUserClaim", env: "THREADMESH_JWT_USER_CLAIM", flag: "--jwt-user-claim", kind: "string", default: "sub", help: "JWT claim naming the connection's user", commands: ROUTERS },
  { key: "credentialCacheMs", env: "THREADMESH_CREDENTIAL_CACHE_MS", flag: "--credential-cache-ms", kind: "int", default: 10_000, min: 0, help: "how long a router reuses a verified API key or a tenant's status, ms; revocations and suspensions reach every router at once over the bus", commands: ROUTERS },
  { key: "authFailuresPerMinute", env: "THREADMESH_AUTH_FAILURES_PER_MINUTE", flag: "--auth-failures-per-minute", kind: "int", default: 30, min: 1, help: "failed upgrades one address may have per minute; beyond it 429 with Retry-After, credentials unchecked", commands: ROUTERS },
  { key: "console", env: "THREADMESH_CONSOLE", flag: "--console", kind: "bool", default: false, devDefault: true, help: "serve the browser console at /console; it signs in with an API key through POST /console/ticket (a single-use WebSocket ticket)", commands: ROUTERS },
  { key: "consoleTicketSecret", env: "THREADMESH_CONSOLE_TICKET_SECRET", flag: "--console-ticket-secret", kind: "string", default: null, help: "key (at least 32 bytes) signing console tickets; give every router behind one address the same one so that a ticket issued by one is redeemed by any (default: a key of each router's own)", commands: ROUTERS },
  { key: "allowedOrigins", env: "THREADMESH_ALLOWED_ORIGINS", flag: "--allowed-origins", kind: "list", default: [], help: "Origin values allowed on upgrades (others get 403)", commands: ROUTERS },
  { key: "maxFrameBytes", env: "THREADMESH_MAX_FRAME_BYTES", flag: "--max-frame-bytes", kind: "int", default: 8 * 1024 * 1024, min: 1024, help: "largest accepted WebSocket frame, bytes", commands: ROUTERS },
  { key: "turnStartBacklogMs", env: "THREADMESH_TURN_START_BACKLOG_MS", flag: "--turn-start-backlog-ms", kind: "int", default: 2_000, min: 0, help: "a router with 16 or more turn/start requests unanswered by session hosts, the oldest waiting longer than this, refuses new turn/starts at once with -32001 and retryAfterMs (0 = no check), ms", commands: ROUTERS },
  { key: "hostRequestTimeoutMs", env: "THREADMESH_HOST_REQUEST_TIMEOUT_MS", flag: "--host-request-timeout-ms", kind: "int", default: 10_000, min: 100, help: "router → host request timeout, ms", commands: ROUTERS },
  { key: "maxJsonDepth", env: "THREADMESH_MAX_JSON_DEPTH", flag: "--max-json-depth", kind: "int", default: L.maxJsonDepth, min: 2, max: 10_000, help: "deepest nesting of arrays/objects in a frame; deeper frames get -32600 before they are parsed", commands: ROUTERS },
  { key: "maxRequestIdChars", env: "THREADMESH_MAX_REQUEST_ID_CHARS", flag: "--max-request-id-chars", kind: "int", default: L.maxRequestIdChars, min: 1, help: "longest string JSON-RPC id; longer ids are invalid (-32600, id null)", commands: ROUTERS },
  { key: "maxInstructionsChars", env: "THREADMESH_MAX_INSTRUCTIONS_CHARS", flag: "--max-instructions-chars", kind: "int", default: L.maxInstructionsChars, min: 1, help: "longest baseInstructions / developerInstructions, each, in characters (-32602 beyond)", commands: ROUTERS },
  { key: "maxInputChars", env: "THREADMESH_MAX_INPUT_CHARS", flag: "--max-input-chars", kind: "int", default: L.maxInputChars, min: 1, help: "text of one turn/start or turn/steer input, in characters (-32602 input_too_large beyond)", commands: ROUTERS },
  { key: "maxInputItems", env: "THREADMESH_MAX_INPUT_ITEMS", flag: "--max-input-items", kind: "int", default: L.maxInputItems, min: 1, help: "items in one turn input", commands: ROUTERS },
  { key: "maxInputImages", env: "THREADMESH_MAX_INPUT_IMAGES", flag: "--max-input-images", kind: "int", default: L.maxInputImages, min: 1, help: "image items in one turn input", commands: ROUTERS },
  { key: "maxInputBytes", env: "THREADMESH_MAX_INPUT_BYTES", flag: "--max-input-bytes", kind: "int", default: L.maxInputBytes, min: 1, help: "all strings of one turn input together (text, data URLs, paths), UTF-8 bytes", commands: ROUTERS },
  { key: "maxThreadNameChars", env: "THREADMESH_MAX_THREAD_NAME_CHARS", flag: "--max-thread-name-chars", kind: "int", default: L.maxThreadNameChars, min: 1, help: "longest thread name (thread/name/set), characters", commands: ROUTERS },
  { key: "maxIdChars", env: "THREADMESH_MAX_ID_CHARS", flag: "--max-id-chars", kind: "int", default: L.maxIdChars, min: 1, help: "longest turn id, item id, clientUserMessageId a client names, characters", commands: ROUTERS },
  { key: "maxCursorChars", env: "THREADMESH_MAX_CURSOR_CHARS", flag: "--max-cursor-chars", kind: "int", default: L.maxCursorChars, min: 1, help: "longest page cursor, characters", commands: ROUTERS },
  { key: "maxPageSize", env: "THREADMESH_MAX_PAGE_SIZE", flag: "--max-page-size", kind: "int", default: L.maxPageSize, min: 1, help: "largest page of thread/list, thread/loaded/list, thread/turns/list, thread/items/list, model/list; larger limits are clamped", commands: ROUTERS },
  { key: "maxThreadsPerConnection", env: "THREADMESH_MAX_THREADS_PER_CONNECTION", flag: "--max-threads-per-connection", kind: "int", default: L.maxThreadsPerConnection, min: 1, help: "threads one connection keeps subscribed (start/fork/resume beyond it: -32600 connectionThreadLimit)", commands: ROUTERS },
  { key: "maxThreadsPerTenant", env: "THREADMESH_MAX_THREADS_PER_TENANT", flag: "--max-threads-per-tenant", kind: "int", default: L.maxThreadsPerTenant, min: 1, help: "threads of one tenant loaded on one session host; idle ones are unloaded to make room, else -32001 tenantThreadLimit", commands: HOSTS },
  { key: "hostMaxConcurrentCommands", env: "THREADMESH_HOST_MAX_CONCURRENT_COMMANDS", flag: "--host-max-concurrent-commands", kind: "int", default: 512, min: 1, help: "commands a session host serves at once outside thread queues (placements, listings, loads); beyond it -32001 hostBusy", commands: HOSTS },
  { key: "requestQueueTimeoutMs", env: "THREADMESH_REQUEST_QUEUE_TIMEOUT_MS", flag: "--request-queue-timeout-ms", kind: "int", default: L.requestQueueTimeoutMs, min: 1, help: "longest a command waits in a thread's queue before it is answered -32001 queueTimeout, ms (keep below the router's host request timeout)", commands: HOSTS },
  { key: "routerId", env: "THREADMESH_ROUTER_ID", flag: "--router-id", kind: "string", default: null, help: "router identity (default: random)", commands: ROUTERS },
  { key: "outboundMaxBytes", env: "THREADMESH_OUTBOUND_MAX_BYTES", flag: "--outbound-max-bytes", kind: "int", default: 1024 * 1024, min: 64 * 1024, help: "outbound bytes one connection may hold (backlog and socket buffer); a client over it past the grace period is closed with 1013 and the afterSeq to resume from", commands: ROUTERS },
  { key: "outboundGraceMs", env: "THREADMESH_OUTBOUND_GRACE_MS", flag: "--outbound-grace-ms", kind: "int", default: 10_000, min: 0, help: "how long a connection may stay over its outbound cap, ms", commands: ROUTERS },
  { key: "outboundTotalMaxBytes", env: "THREADMESH_OUTBOUND_TOTAL_MAX_BYTES", flag: "--outbound-total-max-bytes", kind: "int", default: 64 * 1024 * 1024, min: 64 * 1024, help: "outbound bytes all connections of a router may hold together; beyond it the largest backlogs are closed with 1013 at once (at least the per-connection cap)", commands: ROUTERS },
  { key: "metricsHost", env: "THREADMESH_METRICS_HOST", flag: "--metrics-host", kind: "string", default: "127.0.0.1", help: "address the metrics endpoint (/metrics, /healthz, /readyz) binds, apart from the WebSocket port; 0.0.0.0 to let Prometheus scrape from elsewhere", commands: SERVING },
  { key: "metricsPort", env: "THREADMESH_METRICS_PORT", flag: "--metrics-port", kind: "int", default: 9464, min: 0, max: 65535, help: "port of the metrics endpoint (0 = ephemeral); a router and a host on one machine need different ones", commands: SERVING },
  { key: "replayMaxAgeMs", env: "THREADMESH_REPLAY_MAX_AGE_MS", flag: "--replay-max-age-ms", kind: "int", default: 600_000, min: 1_000, help: "event replay window: oldest event kept for `thread/resume` with afterSeq, ms", commands: SERVING },
  { key: "replayMaxEvents", env: "THREADMESH_REPLAY_MAX_EVENTS", flag: "--replay-max-events", kind: "int", default: 10_000, min: 10, help: "event replay window: most event messages kept per thread (a batch of deltas is one)", commands: SERVING },
  { key: "jetstreamReplicas", env: "THREADMESH_JETSTREAM_REPLICAS", flag: "--jetstream-replicas", kind: "int", default: 1, min: 1, max: 5, help: "replicas of the JetStream event stream and KV buckets when this process creates them (3 on a NATS cluster)", commands: ["router", "host", "admin-server"] },
  { key: "heartbeatIntervalMs", env: "THREADMESH_HEARTBEAT_INTERVAL_MS", flag: "--heartbeat-interval-ms", kind: "int", default: 1_000, min: 50, help: "session host heartbeat period (load report and lease renewal), ms", commands: HOSTS },
  { key: "leaseTtlMs", env: "THREADMESH_LEASE_TTL_MS", flag: "--lease-ttl-ms", kind: "int", default: 3_000, min: 150, help: "a host whose last heartbeat is older is dead and its threads are adopted, ms (several heartbeat periods)", commands: [...SERVING, "admin-server"] },
  { key: "drainDeadlineMs", env: "THREADMESH_DRAIN_DEADLINE_MS", flag: "--drain-deadline-ms", kind: "int", default: 10_000, devDefault: 5_000, min: 0, max: 600_000, help: "on SIGTERM or SIGINT: how long running turns (host) and requests in flight (router) get to finish; turns still running then are handed over as on a crash, and the process exits at most 1.5 s later, ms", commands: SERVING },
  { key: "continueTurns", env: "THREADMESH_CONTINUE_TURNS", flag: "--continue-turns", kind: "bool", default: true, help: "a turn a lost session host left at a safe point runs on, with a new model request, on the host that adopts its thread (else it ends interrupted)", commands: HOSTS },
  { key: "maxThreads", env: "THREADMESH_MAX_THREADS", flag: "--max-threads", kind: "int", default: 5_000, min: 1, help: "threads one session host holds; beyond it new threads go to other hosts", commands: HOSTS },
  { key: "maxTurns", env: "THREADMESH_MAX_TURNS", flag: "--max-turns", kind: "int", default: 1_000, min: 0, help: "turns one session host runs at once; new turns beyond it get -32001 with retryAfterMs at once (0 = bounded by event-loop lag only)", commands: HOSTS },
  { key: "turnLagBudgetMs", env: "THREADMESH_TURN_LAG_BUDGET_MS", flag: "--turn-lag-budget-ms", kind: "int", default: 1_000, min: 0, help: "a session host whose event loop runs later than this, timer after timer (median over 2 s), refuses new turns with -32001 and retryAfterMs (0 = no check), ms", commands: HOSTS },
  { key: "deltaLingerMs", env: "THREADMESH_DELTA_LINGER_MS", flag: "--delta-linger-ms", kind: "int", default: 20, min: 0, max: 25, help: "a thread's streamed deltas wait at most this long on the session host so that several travel as one bus message and one WebSocket frame (0 = each at once), ms", commands: HOSTS },
  { key: "hostId", env: "THREADMESH_HOST_ID", flag: "--host-id", kind: "string", default: null, help: "session host identity (default: random)", commands: HOSTS },
  { key: "modelBaseUrl", env: "OPENAI_BASE_URL", flag: "--model-base-url", kind: "string", default: null, help: "Responses API base URL (e.g. https://api.openai.com/v1); unset in dev = built-in model simulator", commands: HOSTS },
  { key: "modelApiKey", env: "OPENAI_API_KEY", flag: "--model-api-key", kind: "string", default: null, help: "API key for the model provider", commands: HOSTS },
  { key: "model", env: "THREADMESH_MODEL", flag: "--model", kind: "string", default: "gpt-5.1-codex", help: "default model for new threads", commands: SERVING },
  { key: "modelMaxRetries", env: "THREADMESH_MODEL_MAX_RETRIES", flag: "--model-max-retries", kind: "int", default: 2, min: 0, max: 10, help: "SDK retries of a model request before its stream starts", commands: HOSTS },
  { key: "workspaceRoot", env: "THREADMESH_WORKSPACE_ROOT", flag: "--workspace-root", kind: "string", default: "./data/workspaces", help: "root of per-tenant thread workspaces (threads started without cwd)", commands: HOSTS },
  { key: "bwrapPath", env: "THREADMESH_BWRAP_PATH", flag: "--bwrap-path", kind: "string", default: null, help: "bubblewrap binary (default: `bwrap` on PATH); without it sandboxed commands fail closed", commands: HOSTS },
  { key: "approvalPolicy", env: "THREADMESH_APPROVAL_POLICY", flag: "--approval-policy", kind: "string", default: "on-request", choices: ["untrusted", "on-request", "never"], help: "default approval policy of new threads", commands: SERVING },
  { key: "sandbox", env: "THREADMESH_SANDBOX", flag: "--sandbox", kind: "string", default: "workspace-write", choices: ["read-only", "workspace-write", "danger-full-access"], help: "default sandbox mode of new threads", commands: SERVING },
  { key: "maxSandbox", env: "THREADMESH_MAX_SANDBOX", flag: "--max-sandbox", kind: "string", default: "workspace-write", devDefault: "danger-full-access", choices: ["read-only", "workspace-write", "danger-full-access"], help: "highest sandbox mode a client may ask for (`externalSandbox` counts as danger-full-access); beyond it: -32602", commands: HOSTS },
  { key: "approvalPolicies", env: "THREADMESH_APPROVAL_POLICIES", flag: "--approval-policies", kind: "list", default: ["untrusted", "on-request", "never", "granular"], choices: ["untrusted", "on-request", "never", "granular"], help: "approval policies a client may ask for; others: -32602", commands: HOSTS },
  { key: "allowNeverWithoutSandbox", env: "THREADMESH_ALLOW_NEVER_WITHOUT_SANDBOX", flag: "--allow-never-without-sandbox", kind: "bool", default: false, devDefault: true, help: "allow approval policy `never` (nobody asked) together with no sandbox (danger-full-access, externalSandbox)", commands: HOSTS },
  { key: "allowEscalation", env: "THREADMESH_ALLOW_ESCALATION", flag: "--allow-escalation", kind: "bool", default: false, devDefault: true, help: "escalation requests (commands asking to run outside the sandbox, patches writing outside it) may be approved; when off they are refused to the model without asking", commands: HOSTS },
  { key: "allowNetwork", env: "THREADMESH_ALLOW_NETWORK", flag: "--allow-network", kind: "bool", default: false, devDefault: true, help: "sandboxed commands may have network access when a client asks (`networkAccess`); when off the request is clamped to no network", commands: HOSTS },
  { key: "confineWorkspaces", env: "THREADMESH_CONFINE_WORKSPACES", flag: "--confine-workspaces", kind: "bool", default: true, devDefault: false, help: "thread cwds, writable roots and patched files must resolve (symlinks followed) inside <workspace root>/<tenant>; else -32602", commands: HOSTS },
  { key: "commandTimeoutMs", env: "THREADMESH_COMMAND_TIMEOUT_MS", flag: "--command-timeout-ms", kind: "int", default: 600_000, min: 100, help: "longest a shell tool command may run, ms", commands: HOSTS },
  { key: "admission", env: "THREADMESH_ADMISSION", flag: "--admission", kind: "bool", default: true, help: "every turn/start, turn/steer and model request passes the credit waterfall of the tenant's plan (burst, concurrency, plan windows, grants, credits) and each request's usage is settled; the `default` plan is unlimited", commands: SERVING },
  { key: "joinDeltas", env: "THREADMESH_JOIN_DELTAS", flag: "--join-deltas", kind: "bool", default: false, help: "routers send consecutive deltas of one item that arrive in one batch from the host as one frame (joined text, firstSeq): fewer frames at high load; off: one frame per delta, as Codex sends them", commands: ROUTERS },
  { key: "shedding", env: "THREADMESH_SHEDDING", flag: "--shedding", kind: "bool", default: true, help: "routers refuse new turns (turn/start) of the lowest tenant priority class first, -32001 with retryAfterMs, while the session hosts' heartbeats show pressure (active turns against capacity, event-loop lag); running turns are never shed", commands: ROUTERS },
  { key: "redisUrl", env: "THREADMESH_REDIS_URL", flag: "--redis-url", kind: "string", default: null, help: "Redis shared by the session hosts for the per-second burst limits (redis://…); unset: each host counts in memory", commands: ["host"] },
  { key: "burstInsuranceFraction", env: "THREADMESH_BURST_INSURANCE_FRACTION", flag: "--burst-insurance-fraction", kind: "number", default: 0.5, min: 0.01, max: 1, help: "share of a burst limit each host allows on its own while Redis is unreachable (about 1 / number of hosts)", commands: ["host"] },
  { key: "priceTable", env: "THREADMESH_PRICE_TABLE", flag: "--price-table", kind: "string", default: null, help: "JSON file of model prices, micro-credits per million tokens: {\"<model>\": {\"inputPerMillion\", \"cachedInputPerMillion\", \"outputPerMillion\"}, \"*\": …}; unset: built-in prices for the default and simulator models", commands: HOSTS },
  { key: "maxOutputTokens", env: "THREADMESH_MAX_OUTPUT_TOKENS", flag: "--max-output-tokens", kind: "int", default: 16_384, min: 1, help: "output tokens one model request may produce (sent as max_output_tokens): admission reserves them with the request's input before it is sent", commands: HOSTS },
  { key: "simHost", env: "THREADMESH_SIM_HOST", flag: "--sim-host", kind: "string", default: "127.0.0.1", help: "address the model simulator binds (0.0.0.0 to serve other machines or containers)", commands: ["model-sim"] },
  { key: "simPort", env: "THREADMESH_SIM_PORT", flag: "--sim-port", kind: "int", default: 0, min: 0, max: 65535, help: "model simulator port (0 = ephemeral)", commands: ["dev", "model-sim"] },
  { key: "simTokensPerSecond", env: "THREADMESH_SIM_TOKENS_PER_SECOND", flag: "--sim-tokens-per-second", kind: "number", default: 60, min: 0, help: "simulator generative mode: tokens per second (0 = as fast as possible)", commands: ["dev", "model-sim"] },
  { key: "simTtftMs", env: "THREADMESH_SIM_TTFT_MS", flag: "--sim-ttft-ms", kind: "int", default: 200, min: 0, help: "simulator generative mode: time to first token, ms", commands: ["dev", "model-sim"] },
  { key: "simToolCallProbability", env: "THREADMESH_SIM_TOOL_CALL_PROBABILITY", flag: "--sim-tool-call-probability", kind: "number", default: 0.2, min: 0, max: 1, help: "simulator generative mode: chance a reply is a shell tool call", commands: ["dev", "model-sim"] },
  { key: "adminHost", env: "THREADMESH_ADMIN_HOST", flag: "--admin-host", kind: "string", default: "127.0.0.1", help: "address the admin gRPC API binds (dev, admin-server) or that `threadmesh admin` calls", commands: ADMIN },
  { key: "adminPort", env: "THREADMESH_ADMIN_PORT", flag: "--admin-port", kind: "int", default: 8766, min: 0, max: 65535, help: "admin gRPC API port (0 = ephemeral, dev and admin-server)", commands: ADMIN },
  { key: "adminToken", env: "THREADMESH_ADMIN_TOKEN", flag: "--admin-token", kind: "string", default: null, help: "admin API token, sent as `authorization: Bearer`; dev generates one when unset; admin-server needs it unless THREADMESH_ADMIN_TLS_CLIENT_CA is set", commands: ADMIN },
  { key: "adminTlsCert", env: "THREADMESH_ADMIN_TLS_CERT", flag: "--admin-tls-cert", kind: "string", default: null, help: "PEM certificate file: the admin server's (TLS on; with THREADMESH_ADMIN_TLS_KEY), or `threadmesh admin`'s client certificate for mTLS", commands: ADMIN },
  { key: "adminTlsKey", env: "THREADMESH_ADMIN_TLS_KEY", flag: "--admin-tls-key", kind: "string", default: null, help: "PEM private key file of THREADMESH_ADMIN_TLS_CERT", commands: ADMIN },
  { key: "adminTlsClientCa", env: "THREADMESH_ADMIN_TLS_CLIENT_CA", flag: "--admin-tls-client-ca", kind: "string", default: null, help: "PEM CA file: admin clients must present a certificate it signed (mTLS; needs THREADMESH_ADMIN_TLS_CERT)", commands: ADMIN_SERVERS },
  { key: "adminTlsCa", env: "THREADMESH_ADMIN_TLS_CA", flag: "--admin-tls-ca", kind: "string", default: null, help: "PEM CA file `threadmesh admin` verifies the admin server's certificate with (TLS on; system roots when unset and a client certificate is given)", commands: ["admin"] },
];
