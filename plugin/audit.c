/* audit.c - one line per decision (issue 4: time, image name, digest,
 * verdict, reason, policy, signer, cached or not, duration). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "audit.h"
#include "util.h"

struct sigild_audit {
	pthread_mutex_t lock;
	char *path; /* NULL: stderr */
	int fd;
	sigild_audit_format format;
	uint64_t write_errors;
};

static sigil_status open_fd(const char *path, int *fd, sigil_error *err)
{
	int f = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (f < 0)
		return sigil__err(err, SIGIL_ERR_IO, "audit log %s: %s", path, strerror(errno));
	*fd = f;
	return SIGIL_STATUS_OK;
}

sigil_status sigild_audit_open(sigild_audit **out, const char *path, sigild_audit_format format,
	sigil_error *err)
{
	if (!out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_audit_open: missing argument");
	sigild_audit *a = calloc(1, sizeof *a);
	if (!a)
		return sigil__err_oom(err);
	a->format = format;
	a->fd = STDERR_FILENO;
	if (path && path[0]) {
		a->path = strdup(path);
		if (!a->path) {
			free(a);
			return sigil__err_oom(err);
		}
		if (open_fd(path, &a->fd, err) != SIGIL_STATUS_OK) {
			free(a->path);
			free(a);
			return SIGIL_STATUS_ERROR;
		}
	}
	pthread_mutex_init(&a->lock, NULL);
	*out = a;
	return SIGIL_STATUS_OK;
}

sigil_status sigild_audit_reopen(sigild_audit *a, sigil_error *err)
{
	if (!a)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigild_audit_reopen: missing argument");
	if (!a->path)
		return SIGIL_STATUS_OK;
	int fd = -1;
	if (open_fd(a->path, &fd, err) != SIGIL_STATUS_OK)
		return SIGIL_STATUS_ERROR;
	pthread_mutex_lock(&a->lock);
	close(a->fd);
	a->fd = fd;
	pthread_mutex_unlock(&a->lock);
	return SIGIL_STATUS_OK;
}

void sigild_audit_close(sigild_audit *a)
{
	if (!a)
		return;
	if (a->path)
		close(a->fd);
	free(a->path);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

uint64_t sigild_audit_write_errors(sigild_audit *a)
{
	if (!a)
		return 0;
	pthread_mutex_lock(&a->lock);
	uint64_t n = a->write_errors;
	pthread_mutex_unlock(&a->lock);
	return n;
}

static void format_time(int64_t time_us, char *buf, size_t size)
{
	time_t secs = (time_t)(time_us / 1000000);
	struct tm tm;
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, size, "%lld", (long long)time_us);
		return;
	}
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06lldZ", base, (long long)(time_us % 1000000));
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* text lines are read by people and grep: no control characters from a
 * request may break a line or move the cursor */
static char *sanitize(const char *s)
{
	s = nz(s);
	size_t n = strlen(s);
	char *o = malloc(n + 1);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	o[n] = '\0';
	return o;
}

static int add_str(json_object *o, const char *k, const char *v)
{
	json_object *s = json_object_new_string(nz(v));
	return s ? json_object_object_add(o, k, s) : -1;
}

static char *json_line(const char *when, const sigild_audit_record *r)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	int bad = 0;
	bad |= add_str(o, "time", when);
	bad |= add_str(o, "image", r->image);
	bad |= add_str(o, "digest", r->digest);
	bad |= add_str(o, "verdict", r->allow ? "allow" : "deny");
	bad |= add_str(o, "reason", r->reason);
	bad |= add_str(o, "policy", r->policy);
	bad |= add_str(o, "level", r->level);
	bad |= add_str(o, "failure", r->failure);
	bad |= add_str(o, "signer", r->signer);
	bad |= json_object_object_add(o, "cached", json_object_new_boolean(r->cached));
	bad |= json_object_object_add(o, "dryRunOverride", json_object_new_boolean(r->dry_run_override));
	bad |= json_object_object_add(o, "allowListed", json_object_new_boolean(r->allow_listed));
	bad |= json_object_object_add(o, "elapsedUs", json_object_new_int64(r->elapsed_us));
	char *line = NULL;
	if (!bad) {
		const char *s = json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		size_t n = s ? strlen(s) : 0;
		line = s ? malloc(n + 2) : NULL;
		if (line) {
			memcpy(line, s, n);
			line[n] = '\n';
			line[n + 1] = '\0';
		}
	}
	json_object_put(o);
	return line;
}

static char *text_line(const char *when, const sigild_audit_record *r)
{
	char *image = sanitize(r->image), *digest = sanitize(r->digest), *reason = sanitize(r->reason);
	char *policy = sanitize(r->policy), *level = sanitize(r->level), *signer = sanitize(r->signer);
	char *line = NULL;
	if (image && digest && reason && policy && level && signer) {
		const char *tag = r->allow_listed ? " allow-listed" : r->dry_run_override ? " dry-run" : "";
		char *out = NULL;
		if (asprintf(&out, "%s %s%s %s@%s policy=\"%s\" level=%s signer=\"%s\" cached=%s elapsed=%lldus: %s\n",
			when, r->allow ? "ALLOW" : "DENY", tag, image, digest, policy, level[0] ? level : "-",
			signer, r->cached ? "yes" : "no", (long long)r->elapsed_us, reason) >= 0)
			line = out;
	}
	free(image);
	free(digest);
	free(reason);
	free(policy);
	free(level);
	free(signer);
	return line;
}

char *sigild_audit_format_line(sigild_audit_format format, int64_t time_us, const sigild_audit_record *rec)
{
	if (!rec)
		return NULL;
	char when[64];
	format_time(time_us, when, sizeof when);
	return format == SIGILD_AUDIT_TEXT ? text_line(when, rec) : json_line(when, rec);
}

void sigild_audit_log(sigild_audit *a, const sigild_audit_record *rec)
{
	if (!a || !rec)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char *line = sigild_audit_format_line(a->format, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, rec);
	pthread_mutex_lock(&a->lock);
	if (!line) {
		a->write_errors++;
		pthread_mutex_unlock(&a->lock);
		return;
	}
	size_t n = strlen(line), off = 0;
	while (off < n) {
		ssize_t w = write(a->fd, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			a->write_errors++;
			break;
		}
		off += (size_t)w;
	}
	pthread_mutex_unlock(&a->lock);
	free(line);
}
