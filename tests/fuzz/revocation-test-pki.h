/* revocation-test-pki.h - the throwaway test PKI shared by the OCSP and
 * CRL fuzz targets (their seed responses and CRLs are signed by it), and
 * the times the seeds were made for. Included by one translation unit each. */
#ifndef SIGIL_FUZZ_REVOCATION_TEST_PKI_H
#define SIGIL_FUZZ_REVOCATION_TEST_PKI_H

#include <stdint.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

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

#endif
