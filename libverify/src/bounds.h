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
/* Trust policy document. */
#define SIGIL_MAX_POLICY_SIZE (1u * 1024u * 1024u)
/* One certificate file in a trust store. */
#define SIGIL_MAX_CERT_FILE_SIZE (1u * 1024u * 1024u)
/* Certificates per trust store (all files together). */
#define SIGIL_MAX_STORE_CERTS 512
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

#endif
