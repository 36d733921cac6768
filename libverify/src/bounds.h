/* bounds.h - every bound on attacker- or operator-controlled input, named
 * once. Parsers reject (SIGIL_ERR_LIMIT) rather than truncate. */
#ifndef SIGIL_BOUNDS_H
#define SIGIL_BOUNDS_H

/* Signature envelope blob (JWS or COSE). notation allows 32 MiB; 16 MiB is
 * 3x the largest envelope seen in practice (a payload with a 4 MB
 * annotation) and keeps a daemon's worst case per request bounded. */
#define SIGIL_MAX_ENVELOPE_SIZE (16u * 1024u * 1024u)
/* Signature manifest, image manifest, image index (notation: 4 MiB). */
#define SIGIL_MAX_MANIFEST_SIZE (4u * 1024u * 1024u)
/* oci-layout and the layout's index.json. */
#define SIGIL_MAX_LAYOUT_INDEX_SIZE (4u * 1024u * 1024u)
/* Signature manifests an OCI layout source keeps from discovery for the
 * fetch that follows (layout.c): each at most, and all together. */
#define SIGIL_LAYOUT_MEMO_MAX_ENTRY (64u * 1024u)
#define SIGIL_LAYOUT_MEMO_MAX_BYTES (1024u * 1024u)
/* Trust policy document. */
#define SIGIL_MAX_POLICY_SIZE (1u * 1024u * 1024u)
/* One certificate file in a trust store. */
#define SIGIL_MAX_CERT_FILE_SIZE (1u * 1024u * 1024u)
/* Certificates per trust store (all files together). Room for a large
 * organisation's CA bundle (issue 7 measures 1000; the trusted-root lookup
 * does not grow with it, bench/README.md), about 8 MB parsed at most. */
#define SIGIL_MAX_STORE_CERTS 2048
/* Files per trust store directory. */
#define SIGIL_MAX_STORE_FILES 1024
/* Trust policy statements, scopes per statement, identities, stores. */
#define SIGIL_MAX_POLICY_STATEMENTS 1024
#define SIGIL_MAX_POLICY_LIST 1024
/* JSON nesting depth for every JSON input. */
#define SIGIL_MAX_JSON_DEPTH 32
/* CBOR nesting depth for COSE envelopes. */
#define SIGIL_MAX_CBOR_DEPTH 16
/* Items in one CBOR map or array of a COSE envelope. */
#define SIGIL_MAX_CBOR_ITEMS 256
/* Data items in a whole COSE envelope (every nesting level together): keeps
 * the decoded tree's memory proportional to a real envelope, whatever the
 * per-container bound allows. */
#define SIGIL_MAX_CBOR_TOTAL_ITEMS 16384
/* Certificates in an envelope chain or a timestamp token. */
#define SIGIL_MAX_CHAIN_LENGTH 10
/* Entries in a crit header. */
#define SIGIL_MAX_CRIT_ENTRIES 64
/* One protected header (decoded). */
#define SIGIL_MAX_HEADER_SIZE (64u * 1024u)
/* RFC 3161 timestamp token. */
#define SIGIL_MAX_TIMESTAMP_SIZE (64u * 1024u)
/* SignerInfos tried per timestamp token (notary-verification.md §5.3 step 6
 * tries each in turn; real tokens have one): keeps a hostile token from
 * asking for dozens of chain builds. */
#define SIGIL_MAX_TIMESTAMP_SIGNERS 4
/* One DER certificate. */
#define SIGIL_MAX_CERT_SIZE (64u * 1024u)
/* Parsed envelope certificates kept for reuse, process-wide (certcache.h),
 * and the largest one kept (real ones are 1-2 KB): whatever envelopes
 * arrive, the cache holds at most 64 x (8 KB + the parsed object). */
#define SIGIL_CERT_CACHE_ENTRIES 64
#define SIGIL_CERT_CACHE_MAX_DER (8u * 1024u)
/* Signatures examined per artifact (upper bound for --max-signatures). */
#define SIGIL_MAX_SIGNATURES 10000
/* Manifests listed in an index (layout index.json, referrers index). */
#define SIGIL_MAX_INDEX_ENTRIES 100000
/* Annotations on one descriptor / payload. */
#define SIGIL_MAX_ANNOTATIONS 4096
/* Distinguished name: attributes and total length. */
#define SIGIL_MAX_DN_ATTRS 32
#define SIGIL_MAX_DN_LENGTH 4096
/* User metadata pairs requested by the caller. */
#define SIGIL_MAX_USER_METADATA 256


/* Registry discovery. */
/* A Link header value (referrers pagination). */
#define SIGIL_MAX_LINK_HEADER 8192
/* Referrers pages followed for one artifact. */
#define SIGIL_MAX_REFERRERS_PAGES 64
/* Redirects followed for a blob (registries redirect to object storage). */
#define SIGIL_MAX_REDIRECTS 3
/* Default per-request timeout and whole-discovery deadline, ms. */
#define SIGIL_DEFAULT_REQUEST_TIMEOUT_MS 5000
#define SIGIL_DEFAULT_DISCOVERY_DEADLINE_MS 30000

/* HTTP (http.c): one captured response header value (WWW-Authenticate
 * keeps every occurrence joined, within the same bound). */
#define SIGIL_MAX_HTTP_HEADER_VALUE (16u * 1024u)
/* System CA bundle plus a host's extra CA files, combined in memory
 * (Debian's bundle is ~220 KB). */
#define SIGIL_MAX_CA_BUNDLE_SIZE (8u * 1024u * 1024u)
/* Registry auth (auth.c): a token endpoint's response, one token, and the
 * tokens cached per client (oldest evicted). */
#define SIGIL_MAX_TOKEN_RESPONSE_SIZE (1u * 1024u * 1024u)
#define SIGIL_MAX_AUTH_TOKEN_SIZE (64u * 1024u)
#define SIGIL_MAX_TOKEN_CACHE_ENTRIES 256
/* Redirects a token endpoint may send us through. */
#define SIGIL_MAX_TOKEN_REDIRECTS 3

/* References (reference.c): the whole input string. distribution bounds
 * only the path (255); this keeps hostile domains and digests bounded. */
#define SIGIL_MAX_REFERENCE_LENGTH 1024
/* TOML (toml.c) for hosts.toml and containerd's config.toml (a full
 * `containerd config default` is ~12 KB): document size, nesting of
 * tables/arrays/inline tables and dotted key parts, keys per table and
 * elements per array, values in the whole document, one string. */
#define SIGIL_MAX_TOML_SIZE (1u * 1024u * 1024u)
#define SIGIL_MAX_TOML_DEPTH 32
#define SIGIL_MAX_TOML_KEYS 1024
#define SIGIL_MAX_TOML_VALUES 16384
#define SIGIL_MAX_TOML_STRING (64u * 1024u)
/* Registry hosts (hosts.c): [host."…"] entries plus server, and CA files /
 * client pairs / header values per host. */
#define SIGIL_MAX_REGISTRY_HOSTS 64
#define SIGIL_MAX_HOST_FILES 64
#define SIGIL_MAX_HOST_HEADERS 64

/* Registry credentials (credentials.c, credhelper.c, kubecred.c). */
/* docker config.json and a kubelet credential provider config file. */
#define SIGIL_MAX_CRED_CONFIG_SIZE (1u * 1024u * 1024u)
/* Files read from a credential provider config directory. */
#define SIGIL_MAX_CRED_CONFIG_FILES 64
/* stdout of a docker-credential helper or kubelet plugin; stderr kept. */
#define SIGIL_MAX_CRED_OUTPUT (64u * 1024u)
#define SIGIL_MAX_CRED_STDERR (4u * 1024u)
/* Entries in auths / credHelpers, providers, matchImages, args, env, a
 * plugin response's auth map. */
#define SIGIL_MAX_CRED_ENTRIES 1024
/* YAML nodes in one credential provider config document. */
#define SIGIL_MAX_YAML_NODES 16384
/* Cached plugin responses per provider (expired first, then oldest). */
#define SIGIL_MAX_CRED_CACHE_ENTRIES 256
/* $PATH directories searched for a docker-credential helper. */
#define SIGIL_MAX_PATH_ENTRIES 64

/* sigil-verifier, the forwarder containerd execs per pull (containerd.md
 * §1.2, §1.13): the descriptor JSON on stdin (containerd writes ~150 bytes:
 * mediaType, digest, size), sigild's gRPC response message, and the one
 * line printed as the rejection reason (containerd keeps 32 KiB; kubelet
 * shows it in events, so it stays short). */
#define SIGIL_MAX_FORWARDER_STDIN (64u * 1024u)
#define SIGIL_MAX_FORWARDER_RESPONSE (1u * 1024u * 1024u)
#define SIGIL_MAX_FORWARDER_LINE 2048

/* Revocation (revocation.c, notary-verification.md §6). A CRL body must be
 * smaller than 32 MiB (notation: reading exactly 32 MiB is an error); an
 * OCSP response at most 20480 bytes (notation reads no more). */
#define SIGIL_MAX_CRL_SIZE (32u * 1024u * 1024u)
#define SIGIL_MAX_OCSP_RESPONSE_SIZE 20480u
/* OCSP URLs and CRL distribution point URIs used per certificate, and the
 * length of one of them: keeps a hostile certificate from asking for
 * hundreds of downloads. */
#define SIGIL_MAX_REVOCATION_URLS 16
#define SIGIL_MAX_REVOCATION_URL_LENGTH 2048
/* Per-URL timeouts (§6.1 defaults) and the default budget for all the
 * revocation traffic of one verification (containerd's pull budget is
 * 10 s; the caller may set its own). */
#define SIGIL_DEFAULT_OCSP_TIMEOUT_MS 2000
#define SIGIL_DEFAULT_CRL_TIMEOUT_MS 5000
#define SIGIL_DEFAULT_REVOCATION_BUDGET_MS 8000
/* Redirects followed for an OCSP or CRL download. */
#define SIGIL_MAX_REVOCATION_REDIRECTS 3
/* In-memory revocation cache per verifier: entries and total bytes
 * (least recently used evicted first). */
#define SIGIL_MAX_REVOCATION_CACHE_ENTRIES 1024
#define SIGIL_MAX_REVOCATION_CACHE_BYTES (256u * 1024u * 1024u)
/* Files examined in an offline seed directory. */
#define SIGIL_MAX_REVOCATION_SEED_FILES 4096
/* Cache entries examined by one background refresh pass (per kind: CRLs,
 * OCSP responses), downloads one pass may make, and the back-off of an
 * endpoint that failed (doubling per consecutive failure up to the
 * maximum), so that a responder that is down is not asked again on every
 * pass for every certificate it serves. */
#define SIGIL_MAX_REVOCATION_REFRESH_FILES 4096
#define SIGIL_MAX_REVOCATION_REFRESH_DOWNLOADS 64
#define SIGIL_REVOCATION_REFRESH_BACKOFF_S 60
#define SIGIL_REVOCATION_REFRESH_MAX_BACKOFF_S 1800
/* An entry downloaded again with nothing newer is asked again after at
 * most this long (or a third of its refresh margin, when shorter). */
#define SIGIL_REVOCATION_REFRESH_RECHECK_S 300
/* Endpoints whose back-off a refresher remembers. */
#define SIGIL_MAX_REVOCATION_REFRESH_BACKOFFS 1024

#endif
