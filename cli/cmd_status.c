/* cmd_status.c - `sigil status`: ask sigild, over the socket the forwarder
 * uses, for its configuration revision, mode, cache and counters (with
 * the background revocation refresh's). Exit 0
 * when sigild answered, 2 when it could not be asked. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "forwarder_args.h"
#include "status_rpc.h"

#define STATUS_TIMEOUT_MS 3000

static void status_usage(FILE *f)
{
	fprintf(f,
		"usage: sigil status [--socket PATH] [--output text|json]\n"
		"\n"
		"  --socket PATH       sigild's socket (default $SIGIL_SOCKET, else " SIGIL_FORWARDER_DEFAULT_SOCKET ")\n"
		"  --output text|json  output format (default text)\n");
}

static void json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void print_json(const Sigil__V1__StatusResponse *r)
{
	const Sigil__V1__CacheStats *c = r->cache;
	printf("{\n  \"version\": ");
	json_string(r->version);
	printf(",\n  \"policyRevision\": ");
	json_string(r->policy_revision);
	printf(",\n  \"configDir\": ");
	json_string(r->config_dir);
	printf(",\n  \"mode\": ");
	json_string(r->mode);
	printf(",\n  \"uptimeSeconds\": %" PRId64 ",\n", r->uptime_seconds);
	printf("  \"allows\": %" PRIu64 ",\n  \"denies\": %" PRIu64 ",\n  \"errors\": %" PRIu64 ",\n",
		r->allows, r->denies, r->errors);
	printf("  \"dryRunWouldDeny\": %" PRIu64 ",\n  \"lastReloadError\": ", r->dry_run_would_deny);
	json_string(r->last_reload_error);
	if (c)
		printf(",\n  \"cache\": {\"entries\": %" PRIu64 ", \"capacity\": %" PRIu64 ", \"hits\": %" PRIu64
			", \"misses\": %" PRIu64 ", \"evictions\": %" PRIu64 "}",
			c->entries, c->capacity, c->hits, c->misses, c->evictions);
	const Sigil__V1__RevocationStats *v = r->revocation;
	if (v)
		printf(",\n  \"revocation\": {\"refreshPasses\": %" PRIu64 ", \"refreshed\": %" PRIu64
			", \"refreshFailures\": %" PRIu64 ", \"refreshDeferred\": %" PRIu64
			", \"cachedCrls\": %" PRIu64 ", \"cachedOcspResponses\": %" PRIu64 "}",
			v->refresh_passes, v->refreshed, v->refresh_failures, v->refresh_deferred,
			v->cached_crls, v->cached_ocsp_responses);
	printf("\n}\n");
}

static void print_text(const Sigil__V1__StatusResponse *r, const char *sock)
{
	const Sigil__V1__CacheStats *c = r->cache;
	printf("sigild %s at %s: mode %s, up %" PRId64 " s\n", r->version, sock, r->mode, r->uptime_seconds);
	printf("  trust configuration: %s (revision %s)\n", r->config_dir, r->policy_revision);
	if (r->last_reload_error && r->last_reload_error[0])
		printf("  last reload FAILED, previous configuration in force: %s\n", r->last_reload_error);
	printf("  decisions: %" PRIu64 " allowed, %" PRIu64 " denied, %" PRIu64 " errors",
		r->allows, r->denies, r->errors);
	if (r->dry_run_would_deny)
		printf(", %" PRIu64 " would have been denied (dry-run)", r->dry_run_would_deny);
	printf("\n");
	if (c)
		printf("  verdict cache: %" PRIu64 "/%" PRIu64 " entries, %" PRIu64 " hits, %" PRIu64
			" misses, %" PRIu64 " evictions\n",
			c->entries, c->capacity, c->hits, c->misses, c->evictions);
	const Sigil__V1__RevocationStats *v = r->revocation;
	if (v)
		printf("  revocation cache: %" PRIu64 " CRLs, %" PRIu64 " OCSP responses; refresh: %" PRIu64
			" passes, %" PRIu64 " refreshed, %" PRIu64 " failed, %" PRIu64 " deferred\n",
			v->cached_crls, v->cached_ocsp_responses, v->refresh_passes, v->refreshed,
			v->refresh_failures, v->refresh_deferred);
	else
		printf("  revocation cache: memory only (no state directory), no background refresh\n");
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	int json = 0, opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr, "sigil status: --output must be text or json\n");
				return EXIT_UNUSABLE;
			}
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			status_usage(stderr);
			return EXIT_UNUSABLE;
		}
	}
	if (optind != argc) {
		status_usage(stderr);
		return EXIT_UNUSABLE;
	}
	sock = sigil__sigild_socket(sock);
	char reason[1024];
	Sigil__V1__StatusResponse *r = sigil__status_rpc(sock, STATUS_TIMEOUT_MS, reason, sizeof reason);
	if (!r) {
		fprintf(stderr, "sigil status: %s\n", reason);
		return EXIT_UNUSABLE;
	}
	if (json)
		print_json(r);
	else
		print_text(r, sock);
	sigil__v1__status_response__free_unpacked(r, NULL);
	return 0;
}
