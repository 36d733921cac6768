/* dn.c - distinguished names as notation reads x509.subject trusted
 * identities and certificate subjects (notary-verification.md §3.5). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include "cleanup.h"
#include "dn.h"
#include "errors.h"
#include "bounds.h"
#include "quote.h"


void sigil__dn_clear(sigil__dn *dn)
{
	if (!dn)
		return;
	for (size_t i = 0; i < dn->count && i < SIGIL_MAX_DN_ATTRS; i++) {
		free(dn->attrs[i].type);
		free(dn->attrs[i].value);
		dn->attrs[i].type = NULL;
		dn->attrs[i].value = NULL;
	}
	dn->count = 0;
}

static void dn_clearp(sigil__dn *dn)
{
	sigil__dn_clear(dn);
}

static bool dn_is_space(unsigned char c)
{
	/* Go's strings.TrimSpace over ASCII (go-ldap trims types and values) */
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int dn_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const sigil__dn_attr *dn_find(const sigil__dn *dn, const char *type)
{
	for (size_t i = 0; i < dn->count; i++)
		if (strcmp(dn->attrs[i].type, type) == 0)
			return &dn->attrs[i];
	return NULL;
}

/* Appends (type, value), taking ownership of both (freed on failure).
 * Returns 0, or 2 when SIGIL_MAX_DN_ATTRS is reached. */
static int dn_add(sigil__dn *dn, char *type, char *value)
{
	if (dn->count >= SIGIL_MAX_DN_ATTRS) {
		free(type);
		free(value);
		return 2;
	}
	dn->attrs[dn->count].type = type;
	dn->attrs[dn->count].value = value;
	dn->count++;
	return 0;
}

/* C, ST and O must be present and non-empty (§3.5 rule 6). Returns the
 * first missing type or NULL. */
static const char *dn_missing_mandatory(const sigil__dn *dn)
{
	static const char *const mandatory[] = { "C", "ST", "O" };
	for (size_t i = 0; i < sizeof mandatory / sizeof mandatory[0]; i++) {
		const sigil__dn_attr *a = dn_find(dn, mandatory[i]);
		if (!a || a->value[0] == '\0')
			return mandatory[i];
	}
	return NULL;
}

#define DN_SYNTAX_TAIL ". A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a " \
	"minimum, and follow RFC 4514 standard"

/* Decodes one attribute value raw[0..len) (RFC 4514 §3 escapes, as go-ldap
 * v3 decodes them): unescaped leading/trailing white space is dropped,
 * "\<special>" yields the character, "\XX" a byte. Unescaped '"', '<',
 * '>' are rejected (newer go-ldap); a NUL byte, escaped or not, is rejected
 * because values are C strings. *why names the problem on failure. */
static int dn_decode_value(const char *raw, size_t len, char **out, const char **why)
{
	char *buf = malloc(len + 1);
	if (!buf) {
		*why = NULL;
		return -1;
	}
	size_t o = 0, keep = 0;
	size_t i = 0;
	while (i < len && dn_is_space((unsigned char)raw[i]))
		i++;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c == '\\') {
			if (i + 1 >= len) {
				*why = "got corrupted escaped character";
				free(buf);
				return -1;
			}
			unsigned char n = (unsigned char)raw[i + 1];
			switch (n) {
			case ' ': case '"': case '#': case '+': case ',': case ';':
			case '<': case '=': case '>': case '\\':
				buf[o++] = (char)n;
				i++;
				keep = o;
				continue;
			default:
				break;
			}
			int hi = dn_hexval(n);
			int lo = i + 2 < len ? dn_hexval((unsigned char)raw[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				*why = "failed to decode escaped character: invalid hex escape";
				free(buf);
				return -1;
			}
			unsigned char b = (unsigned char)(hi << 4 | lo);
			if (b == 0) {
				*why = "escaped NUL character in value";
				free(buf);
				return -1;
			}
			buf[o++] = (char)b;
			i += 2;
			keep = o;
			continue;
		}
		if (c == '"' || c == '<' || c == '>' || c == 0) {
			*why = "got unescaped special character ('\"', '<', '>' or NUL) in value";
			free(buf);
			return -1;
		}
		buf[o++] = (char)c;
		if (!dn_is_space(c))
			keep = o;
	}
	/* trailing unescaped white space is dropped; escaped spaces count */
	buf[keep] = '\0';
	*out = buf;
	return 0;
}

sigil_status sigil__dn_parse(const char *s, size_t len, sigil__dn *out, sigil_error *err)
{
	sigil__quoted q;
	if (!s || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil__dn_parse: NULL argument");
	if (len > SIGIL_MAX_DN_LENGTH)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			"distinguished name (DN) is %zu bytes long, the limit is %u", len,
			(unsigned)SIGIL_MAX_DN_LENGTH);
	/* §3.5 rule 1: notation refuses hex-encoded BER values outright. */
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '=' && s[i + 1] == '#')
			return sigil__err(err, SIGIL_ERR_POLICY,
				"unsupported distinguished name (DN) %s: notation does not support "
				"x509.subject identities containing \"=#\"", sigil__quote(&q, s, len));

	_cleanup_(dn_clearp) sigil__dn dn = { .count = 0 };
	const char *syntax = NULL;
	bool multi = false;
	size_t start = 0;      /* start of the current type or value */
	size_t type_start = 0, type_end = 0;
	bool have_type = false, escaping = false;

	for (size_t i = 0; i <= len; i++) {
		bool end = i == len;
		char c = end ? ',' : s[i];
		if (!end && escaping) {
			escaping = false;
			continue;
		}
		if (!end && c == '\\') {
			escaping = true;
			continue;
		}
		if (!end && c == '\0') {
			syntax = "got NUL character";
			break;
		}
		if (c == '=' && !have_type) {
			type_start = start;
			type_end = i;
			while (type_start < type_end && dn_is_space((unsigned char)s[type_start]))
				type_start++;
			while (type_end > type_start && dn_is_space((unsigned char)s[type_end - 1]))
				type_end--;
			if (type_start == type_end) {
				syntax = "incomplete type, value pair";
				break;
			}
			have_type = true;
			start = i + 1;
			continue;
		}
		if (c == ',' || c == ';' || c == '+') {
			if (!have_type) {
				/* an empty (all white space) DN parses as no RDNs and
				 * fails the mandatory-attribute rule below */
				bool blank = end && dn.count == 0;
				for (size_t k = start; blank && k < len; k++)
					blank = dn_is_space((unsigned char)s[k]);
				if (blank)
					break;
				/* "C=US," has nothing after the last separator:
				 * go-ldap reports an incomplete pair */
				syntax = end ? "DN ended with incomplete type, value pair"
					     : "incomplete type, value pair";
				break;
			}
			if (c == '+') {
				/* §3.5 rule 3 */
				multi = true;
				break;
			}
			if (escaping) {
				syntax = "got corrupted escaped character";
				break;
			}
			char *value = NULL;
			const char *why = NULL;
			if (dn_decode_value(s + start, i - start, &value, &why) != 0) {
				if (!why)
					return sigil__err_oom(err);
				syntax = why;
				break;
			}
			/* §3.5 rule 4: "S" is an alias of "ST"; other types are kept
			 * as written, case-sensitively */
			bool alias = type_end - type_start == 1 && s[type_start] == 'S';
			char *type = alias ? strdup("ST") : strndup(s + type_start, type_end - type_start);
			if (!type) {
				free(value);
				return sigil__err_oom(err);
			}
			if (dn_find(&dn, type)) {
				/* §3.5 rule 5 */
				sigil__quoted q2;
				sigil__err(err, SIGIL_ERR_POLICY,
					"distinguished name (DN) %s has duplicate RDN attribute for %s, DN "
					"can only have unique RDN attributes", sigil__quote(&q, s, len),
					sigil__quote(&q2, type, strlen(type)));
				free(type);
				free(value);
				return SIGIL_STATUS_ERROR;
			}
			int rc = dn_add(&dn, type, value);
			if (rc == 2)
				return sigil__err(err, SIGIL_ERR_LIMIT,
					"distinguished name (DN) %s has more than %u attributes",
					sigil__quote(&q, s, len), (unsigned)SIGIL_MAX_DN_ATTRS);
			have_type = false;
			start = i + 1;
		}
	}
	if (multi)
		return sigil__err(err, SIGIL_ERR_POLICY,
			"distinguished name (DN) %s has multi-valued RDN attributes, remove "
			"multi-valued RDN attributes as they are not supported", sigil__quote(&q, s, len));
	if (syntax)
		return sigil__err(err, SIGIL_ERR_POLICY,
			"parsing distinguished name (DN) %s failed with err: %s" DN_SYNTAX_TAIL,
			sigil__quote(&q, s, len), syntax);
	const char *missing = dn_missing_mandatory(&dn);
	if (missing) {
		sigil__quoted q2;
		return sigil__err(err, SIGIL_ERR_POLICY,
			"distinguished name (DN) %s has no mandatory RDN attribute for %s, it must "
			"contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum",
			sigil__quote(&q, s, len), sigil__quote(&q2, missing, strlen(missing)));
	}
	*out = dn;
	dn.count = 0; /* ownership moved to *out */
	return SIGIL_STATUS_OK;
}

/* The attribute types Go's pkix.Name.String() names (crypto/x509/pkix
 * attributeTypeNames); any other type is rendered "oid=#hex" and so fails
 * notation's "=#" rule. */
static const char *dn_known_type(int nid)
{
	switch (nid) {
	case NID_countryName: return "C";
	case NID_stateOrProvinceName: return "ST";
	case NID_localityName: return "L";
	case NID_streetAddress: return "STREET";
	case NID_postalCode: return "POSTALCODE";
	case NID_organizationName: return "O";
	case NID_organizationalUnitName: return "OU";
	case NID_commonName: return "CN";
	case NID_serialNumber: return "SERIALNUMBER";
	default: return NULL;
	}
}

#define DN_CERT_PREFIX "error while parsing the certificate subject from the digital signature. error : "

sigil_status sigil__dn_from_name(const X509_NAME *name, sigil__dn *out, sigil_error *err)
{
	if (!name || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil__dn_from_name: NULL argument");
	_cleanup_(dn_clearp) sigil__dn dn = { .count = 0 };
	int n = X509_NAME_entry_count(name);
	/* Go parses the subject into pkix.Name's fields, whatever the RDN
	 * grouping (a multi-valued RDN of distinct known types prints as
	 * separate RDNs), and String() renders the fields: a type listed
	 * twice prints as one multi-valued RDN, except CommonName and
	 * SerialNumber, single strings that keep their last value. */
	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);
		if (!ne)
			return sigil__err(err, SIGIL_ERR_INTERNAL, DN_CERT_PREFIX "\"unreadable entry\"");
		const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(ne);
		int nid = OBJ_obj2nid(obj);
		if (nid == NID_commonName || nid == NID_serialNumber) {
			bool later = false;
			for (int j = i + 1; j < n && !later; j++)
				later = OBJ_obj2nid(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, j))) == nid;
			if (later)
				continue;
		}
		const char *type = dn_known_type(nid);
		if (!type) {
			char oid[80];
			if (OBJ_obj2txt(oid, sizeof oid, obj, 1) <= 0)
				memcpy(oid, "unknown", 8);
			return sigil__err(err, SIGIL_ERR_POLICY,
				DN_CERT_PREFIX "\"unsupported attribute type %s: notation does not "
				"support x509.subject identities containing \\\"=#\\\"\"", oid);
		}
		if (dn_find(&dn, type))
			/* Go renders repeated types as one multi-valued RDN */
			return sigil__err(err, SIGIL_ERR_POLICY,
				DN_CERT_PREFIX "\"subject has more than one %s attribute (a multi-valued "
				"RDN in notation)\"", type);
		const ASN1_STRING *data = X509_NAME_ENTRY_get_data(ne);
		unsigned char *utf8 = NULL;
		int ulen = ASN1_STRING_to_UTF8(&utf8, data);
		if (ulen < 0)
			return sigil__err_openssl(err, SIGIL_ERR_POLICY,
				DN_CERT_PREFIX "\"attribute value is not a string\"");
		if (memchr(utf8, 0, (size_t)ulen)) {
			OPENSSL_free(utf8);
			return sigil__err(err, SIGIL_ERR_POLICY,
				DN_CERT_PREFIX "\"%s attribute value contains a NUL character\"", type);
		}
		/* pkix.Name.String() does not escape '=' and go-ldap then sees
		 * "=#" inside the value: notation fails such a subject. */
		for (int k = 0; k + 1 < ulen; k++)
			if (utf8[k] == '=' && utf8[k + 1] == '#') {
				OPENSSL_free(utf8);
				return sigil__err(err, SIGIL_ERR_POLICY,
					DN_CERT_PREFIX "\"%s attribute value contains \\\"=#\\\"\"", type);
			}
		/* pkix.Name.String() escapes a space only as the first or last
		 * character, and go-ldap then trims other white space at both
		 * ends (strings.TrimSpace before unescaping). */
		size_t vs = 0, ve = (size_t)ulen;
		if (ve > 0 && utf8[0] != ' ')
			while (vs < ve && dn_is_space(utf8[vs]))
				vs++;
		if (ve > vs && utf8[ve - 1] != ' ')
			while (ve > vs && dn_is_space(utf8[ve - 1]))
				ve--;
		char *value = strndup((const char *)utf8 + vs, ve - vs);
		OPENSSL_free(utf8);
		char *tcopy = strdup(type);
		if (!value || !tcopy) {
			free(value);
			free(tcopy);
			return sigil__err_oom(err);
		}
		int rc = dn_add(&dn, tcopy, value);
		if (rc != 0) /* unreachable: duplicates checked above, nine types */
			return sigil__err(err, SIGIL_ERR_INTERNAL, DN_CERT_PREFIX "\"too many attributes\"");
	}
	const char *missing = dn_missing_mandatory(&dn);
	if (missing)
		return sigil__err(err, SIGIL_ERR_POLICY,
			DN_CERT_PREFIX "\"subject has no mandatory RDN attribute for \\\"%s\\\", it must "
			"contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum\"", missing);
	*out = dn;
	dn.count = 0;
	return SIGIL_STATUS_OK;
}

/* notation-go internal/pkix IsSubsetDN: a type absent from `full` compares
 * as the empty string (Go's map zero value). */
bool sigil__dn_is_subset(const sigil__dn *sub, const sigil__dn *full)
{
	if (!sub || !full)
		return false;
	for (size_t i = 0; i < sub->count; i++) {
		const sigil__dn_attr *a = dn_find(full, sub->attrs[i].type);
		const char *v = a ? a->value : "";
		if (strcmp(sub->attrs[i].value, v) != 0)
			return false;
	}
	return true;
}
