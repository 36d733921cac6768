/* fuzz-ocsp.c - libFuzzer target for OCSP responses (revocation.h): each
 * input is checked as the response for two certificates of the test PKI
 * below, with and without an authentic signing time, so that mutations of
 * the seed responses (signed by the CA or its delegated responder) reach
 * the signature, freshness, status and invalidity-date paths. */
#include <stdint.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "revocation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A throwaway test PKI (EC P-256, public certificates only; the keys were
 * discarded): the CA that signed the seed corpus, a leaf it revoked with an
 * invalidityDate of 2026-01-01, and a leaf it put on hold. */
static const char ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBczCCARqgAwIBAgIUF2df+gJKLCtge5JmJjdJRijJSDswCgYIKoZIzj0EAwIw\n"
	"GDEWMBQGA1UEAwwNc2lnaWwtZnV6ei1jYTAeFw0yNjExMjQyMzU2NDZaFw00NjEx\n"
	"MTkyMzU2NDZaMBgxFjAUBgNVBAMMDXNpZ2lsLWZ1enotY2EwWTATBgcqhkjOPQIB\n"
	"BggqhkjOPQMBBwNCAARPZB0v0HaZYBs5Duca07HmvSuMHehrANgug2A0I9mYuiRm\n"
	"4EzWe/yWPajvgjCDWMUym2vi9sqccRshglOU/b9+o0IwQDAPBgNVHRMBAf8EBTAD\n"
	"AQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUZvptMFvSW1dWAhwW0CWkclZA\n"
	"D6kwCgYIKoZIzj0EAwIDRwAwRAIgdHl8lbfW6nQKKNhyhela7UMbS1+H46p1DzFm\n"
	"VckqsJECIBK2QoUSxSFZkL4IuXhdR8Rabe70mzsFLNQOEtTF3yVW\n"
	"-----END CERTIFICATE-----\n";
static const char leaf_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIB8jCCAZigAwIBAgIBETAKBggqhkjOPQQDAjAYMRYwFAYDVQQDDA1zaWdpbC1m\n"
	"dXp6LWNhMB4XDTI2MTEyNDIzNTY0NloXDTQ2MTExOTIzNTY0NlowGjEYMBYGA1UE\n"
	"AwwPc2lnaWwtZnV6ei1sZWFmMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/ReQ\n"
	"W4J+xGVn1X71xppQXeAb17zFpChEnGtBVPDrG+hn60EOQFpTETKV7Ey/Czu7qSDR\n"
	"u/YIikimlV01ZnhRH6OB0DCBzTAJBgNVHRMEAjAAMA4GA1UdDwEB/wQEAwIHgDAT\n"
	"BgNVHSUEDDAKBggrBgEFBQcDAzAvBggrBgEFBQcBAQQjMCEwHwYIKwYBBQUHMAGG\n"
	"E2h0dHA6Ly8xMjcuMC4wLjE6MS8wKgYDVR0fBCMwITAfoB2gG4YZaHR0cDovLzEy\n"
	"Ny4wLjAuMToxL2NhLmNybDAdBgNVHQ4EFgQUSITsODVdRpp+O60wuK7gv6shL1ow\n"
	"HwYDVR0jBBgwFoAUZvptMFvSW1dWAhwW0CWkclZAD6kwCgYIKoZIzj0EAwIDSAAw\n"
	"RQIhAPGNwFUEbzEE9ppIwOt75GXVspU2yab9hQij6HJk6AhAAiAZ+BG2H7LsQ5Ln\n"
	"rHkIts7tDY1M6Mfi1qU6/agm3FH+GA==\n"
	"-----END CERTIFICATE-----\n";
static const char other_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIB8zCCAZmgAwIBAgIBEjAKBggqhkjOPQQDAjAYMRYwFAYDVQQDDA1zaWdpbC1m\n"
	"dXp6LWNhMB4XDTI2MTEyNDIzNTY0NloXDTQ2MTExOTIzNTY0NlowGzEZMBcGA1UE\n"
	"AwwQc2lnaWwtZnV6ei1vdGhlcjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPZW\n"
	"0U9H/hAj1CWUXCO0TmZff5AVfT3/tOWSlsZI6vZ4onvwdF7UiTPIolOUsf3FkzRk\n"
	"w3iuVGUk5/z8dUFqkVyjgdAwgc0wCQYDVR0TBAIwADAOBgNVHQ8BAf8EBAMCB4Aw\n"
	"EwYDVR0lBAwwCgYIKwYBBQUHAwMwLwYIKwYBBQUHAQEEIzAhMB8GCCsGAQUFBzAB\n"
	"hhNodHRwOi8vMTI3LjAuMC4xOjEvMCoGA1UdHwQjMCEwH6AdoBuGGWh0dHA6Ly8x\n"
	"MjcuMC4wLjE6MS9jYS5jcmwwHQYDVR0OBBYEFIjslU4g/YqfZpLJTi/8tWxQMcQo\n"
	"MB8GA1UdIwQYMBaAFGb6bTBb0ltXVgIcFtAlpHJWQA+pMAoGCCqGSM49BAMCA0gA\n"
	"MEUCIBLOCNvaFmH+wjRwQJgkW6RVrTC6wDlivCifRwkMPvVLAiEAuLauXybkYqw2\n"
	"Ruh71lEIlWioX5UEEYgMoLgprP9s+Ao=\n"
	"-----END CERTIFICATE-----\n";

static X509 *pem(const char *s, size_t len)
{
	BIO *b = BIO_new_mem_buf(s, (int)len);
	X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return c;
}

/* 2027-01-01: inside the seeds' validity; signing times around the
 * invalidity date */
#define FUZZ_NOW 1798761600
#define FUZZ_SIGNED_BEFORE 1748736000
#define FUZZ_SIGNED_AFTER 1780272000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static X509 *ca, *leaf, *other;
	if (!ca) {
		ca = pem(ca_pem, sizeof ca_pem - 1);
		leaf = pem(leaf_pem, sizeof leaf_pem - 1);
		other = pem(other_pem, sizeof other_pem - 1);
		if (!ca || !leaf || !other)
			__builtin_trap();
	}
	static const int64_t times[] = { 0, FUZZ_SIGNED_BEFORE, FUZZ_SIGNED_AFTER };
	X509 *certs[] = { leaf, other };
	for (size_t c = 0; c < 2; c++)
		for (size_t t = 0; t < 3; t++) {
			sigil__rev_status st = SIGIL__REV_UNKNOWN;
			int64_t nu = 0;
			sigil_error err = SIGIL_ERROR_INIT;
			if (sigil__ocsp_response_check(data, size, certs[c], ca, FUZZ_NOW, times[t], &st,
				&nu, &err) == SIGIL_STATUS_OK) {
				if (st != SIGIL__REV_OK && st != SIGIL__REV_REVOKED && st != SIGIL__REV_UNKNOWN)
					__builtin_trap();
				if (nu < FUZZ_NOW)
					__builtin_trap();
			} else if (!err.message[0]) {
				__builtin_trap();
			}
		}
	ERR_clear_error();
	return 0;
}
