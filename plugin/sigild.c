/* sigild.c - the sigil daemon: configuration, logging, signals, the
 * configuration watcher, and the gRPC server's lifetime.
 *
 *   sigild [--config FILE] [--socket PATH] [--config-dir DIR]
 *          [--registry-config DIR] [--docker-config FILE]
 *          [--mode enforce|dry-run] [--log-level LEVEL] [--foreground]
 *
 * It always runs in the foreground (systemd's Type=simple; "--foreground"
 * is accepted for scripts that say so). Logs go to stderr, where journald
 * picks them up; when stderr is the journal the lines carry the "<N>"
 * syslog priority prefix journald understands.
 *
 * The main thread is the event loop: every signal is blocked in every
 * thread and read from a signalfd, and configuration changes arrive on an
 * inotify descriptor in the same poll(). One loop means one reload at a
 * time, in order, without locks or async-signal-safety concerns. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <sigil/registry.h>

#include "config.h"
#include "metrics_http.h"
#include "server.h"
#include "service.h"

/* Let in-flight calls finish on SIGTERM: short, since containerd's
 * per-verifier budget is seconds and systemd is waiting. */
#define SHUTDOWN_GRACE_MS 5000
/* Editors and `cp -r` make bursts of events: reload once the burst has
 * been quiet this long, but never later than the cap after it began. */
#define RELOAD_QUIET_MS 300
#define RELOAD_MAX_DELAY_MS 2000
/* Retry watching a config_dir that does not exist (yet). */
#define REWATCH_RETRY_MS 10000
/* The trust store is truststore/x509/{ca,signingAuthority,tsa}/<name>/:
 * four levels; a little room beyond, and a cap on the watch count. */
#define WATCH_MAX_DEPTH 6
#define WATCH_MAX_DIRS 512

static sigild_log_level log_threshold = SIGILD_LOG_INFO;
static bool log_to_journal;

static void log_msg(sigild_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_msg(sigild_log_level level, const char *fmt, ...)
{
	char line[4096];
	int n = 0;
	va_list ap;
	const char *name;

	if (level > log_threshold)
		return;
	switch (level) {
	case SIGILD_LOG_ERR: name = "error"; break;
	case SIGILD_LOG_WARN: name = "warning"; break;
	case SIGILD_LOG_INFO: name = "info"; break;
	default: name = "debug"; break;
	}
	if (log_to_journal)
		n = snprintf(line, sizeof(line), "<%d>%s: ", (int)level, name);
	else
		n = snprintf(line, sizeof(line), "sigild: %s: ", name);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	n = (int)strnlen(line, sizeof(line) - 2);
	line[n++] = '\n';
	/* one write per line: lines from several threads do not interleave */
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

/* journald sets JOURNAL_STREAM=<dev>:<ino> for the stream it connects to
 * stderr; the prefix is only right when stderr is still that stream. */
static bool stderr_is_journal(void)
{
	const char *js = secure_getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sigild [--config FILE] [--socket PATH] [--config-dir DIR]\n"
		"              [--registry-config DIR] [--docker-config FILE]\n"
		"              [--mode enforce|dry-run] [--log-level error|warning|info|debug]\n"
		"              [--foreground]\n"
		"\n"
		"  --config FILE           configuration file (default " SIGILD_DEFAULT_CONFIG_FILE ")\n"
		"  --socket PATH           gRPC unix socket (default " SIGILD_DEFAULT_SOCKET ")\n"
		"  --config-dir DIR        trustpolicy.json + truststore/ (default " SIGILD_DEFAULT_CONFIG_DIR ")\n"
		"  --registry-config DIR   hosts.toml directory (default " SIGILD_DEFAULT_REGISTRY_CONFIG ")\n"
		"  --docker-config FILE    registry credentials (docker config.json)\n"
		"  --mode MODE             enforce (default) or dry-run\n"
		"  --log-level LEVEL       error, warning, info (default) or debug\n"
		"  --foreground            accepted; sigild never daemonizes\n"
		"\n"
		"Signals: SIGHUP reloads the trust policy and trust store and reopens the\n"
		"audit log; SIGTERM and SIGINT stop after in-flight calls finish. Changes\n"
		"to trustpolicy.json, trustpolicy.oci.json and truststore/ reload by themselves.\n");
}

static bool replace_str(char **field, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return false;
	free(*field);
	*field = copy;
	return true;
}

/* ------------------------------------------------------------ watcher */

typedef struct watcher {
	int fd;                 /* inotify, -1 when not watching */
	int top_wd;             /* config_dir's watch */
	const char *dir;
	size_t ndirs;
	bool warned;
} watcher;

#define WATCH_MASK (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

static void watch_tree(watcher *w, const char *path, int depth)
{
	DIR *d;
	struct dirent *de;

	if (depth > WATCH_MAX_DEPTH || w->ndirs >= WATCH_MAX_DIRS)
		return;
	if (inotify_add_watch(w->fd, path, WATCH_MASK) < 0)
		return;
	w->ndirs++;
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char sub[PATH_MAX];
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub))
			continue;
		/* stat, not lstat: a trust store may be a symlinked mount */
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			watch_tree(w, sub, depth + 1);
	}
	closedir(d);
}

/* (Re)create every watch; a fresh inotify instance is simpler than
 * tracking which subdirectories came and went. Called before a reload, so
 * a change made between the two is seen by the reload itself. */
static void watcher_rewatch(watcher *w)
{
	char ts[PATH_MAX];

	if (w->fd >= 0)
		close(w->fd);
	w->ndirs = 0;
	w->top_wd = -1;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		log_msg(SIGILD_LOG_WARN, "inotify: %s; reload with SIGHUP", strerror(errno));
		return;
	}
	w->top_wd = inotify_add_watch(w->fd, w->dir, WATCH_MASK);
	if (w->top_wd < 0) {
		if (!w->warned)
			log_msg(SIGILD_LOG_WARN,
				"cannot watch %s (%s): changes need SIGHUP until it can be watched",
				w->dir, strerror(errno));
		w->warned = true;
		close(w->fd);
		w->fd = -1;
		return;
	}
	w->warned = false;
	w->ndirs = 1;
	if (snprintf(ts, sizeof(ts), "%s/truststore", w->dir) < (int)sizeof(ts))
		watch_tree(w, ts, 0);
	if (w->ndirs >= WATCH_MAX_DIRS)
		log_msg(SIGILD_LOG_WARN, "watching only the first %d directories of %s",
			WATCH_MAX_DIRS, ts);
}

/* In config_dir itself only the trust files matter (sigild.json and other
 * neighbours do not); Kubernetes ConfigMap mounts swap a "..data" symlink. */
static bool relevant_name(const char *name)
{
	return strcmp(name, "trustpolicy.json") == 0 ||
		strcmp(name, "trustpolicy.oci.json") == 0 ||
		strcmp(name, "truststore") == 0 ||
		strncmp(name, "..", 2) == 0;
}

/* Drain the inotify queue; true when something relevant changed. */
static bool watcher_read(watcher *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n; ) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->wd != w->top_wd)
				relevant = true; /* anything inside the trust store */
			else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
				relevant = true;
			else if (ev->len > 0 && relevant_name(ev->name))
				relevant = true;
			if (ev->mask & IN_Q_OVERFLOW)
				relevant = true;
			p += sizeof(struct inotify_event) + ev->len;
		}
	}
	return relevant;
}

/* ------------------------------------------------------------ main */

/* SIGHUP reloads unconditionally (and reopens the audit log for log
 * rotation); file changes reload only when the revision - a hash of
 * what the verifier reads - moved, so editor temp files and touch(1) do
 * not rebuild the verifier or log a reload. */
static void reload(sigild_service *svc, const char *why, bool only_if_changed)
{
	sigil_error err = SIGIL_ERROR_INIT;
	bool changed = true;
	sigil_status st;

	if (!only_if_changed && sigild_service_reopen_audit(svc, &err) != SIGIL_STATUS_OK) {
		log_msg(SIGILD_LOG_ERR, "reopening the audit log: %s", err.message);
		err = (sigil_error)SIGIL_ERROR_INIT;
	}
	if (only_if_changed)
		st = sigild_service_reload_if_changed(svc, &changed, &err);
	else
		st = sigild_service_reload(svc, &err);
	if (st != SIGIL_STATUS_OK) {
		log_msg(SIGILD_LOG_ERR,
			"reload (%s) failed, the configuration in force stays: %s: %s", why,
			sigil_category_name(err.category), err.message);
	} else if (changed) {
		char *rev = sigild_service_revision(svc);
		log_msg(SIGILD_LOG_INFO, "reloaded the trust policy and trust store (%s), revision %s",
			why, rev ? rev : "?");
		free(rev);
	} else {
		log_msg(SIGILD_LOG_DEBUG, "%s: the trust configuration's revision is unchanged", why);
	}
}

static int run(sigild_service *svc, const sigild_config *cfg, int sfd)
{
	watcher w = { .fd = -1, .top_wd = -1, .dir = cfg->config_dir };
	bool pending = false;
	int64_t first = 0, last = 0, next_rewatch = 0;
	int rc = 0;

	watcher_rewatch(&w);
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = w.fd, .events = POLLIN },
		};
		int64_t now = sigil_registry_now_ms();
		int64_t timeout = -1;

		if (pending) {
			int64_t due = last + RELOAD_QUIET_MS;
			if (due > first + RELOAD_MAX_DELAY_MS)
				due = first + RELOAD_MAX_DELAY_MS;
			timeout = due > now ? due - now : 0;
		} else if (w.fd < 0) {
			timeout = next_rewatch > now ? next_rewatch - now : 0;
		}
		if (poll(pfd, w.fd >= 0 ? 2 : 1, timeout > INT_MAX ? INT_MAX : (int)timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_msg(SIGILD_LOG_ERR, "poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		now = sigil_registry_now_ms();
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					watcher_rewatch(&w);
					reload(svc, "SIGHUP", false);
				} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					log_msg(SIGILD_LOG_INFO, "%s: shutting down",
						si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
					break;
				}
			}
		}
		if (w.fd >= 0 && (pfd[1].revents & POLLIN) && watcher_read(&w)) {
			if (!pending)
				first = now;
			pending = true;
			last = now;
		}
		if (pending && (now >= last + RELOAD_QUIET_MS || now >= first + RELOAD_MAX_DELAY_MS)) {
			pending = false;
			watcher_rewatch(&w);
			reload(svc, "configuration files changed", true);
		} else if (!pending && w.fd < 0 && now >= next_rewatch) {
			watcher_rewatch(&w);
			if (w.fd >= 0)
				reload(svc, "configuration directory appeared", true);
		}
		/* config_dir gone (deleted, or a mount not there yet): retry */
		if (w.fd < 0 && next_rewatch <= now)
			next_rewatch = now + REWATCH_RETRY_MS;
	}
	if (w.fd >= 0)
		close(w.fd);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "config-dir", required_argument, NULL, 'd' },
		{ "registry-config", required_argument, NULL, 'r' },
		{ "docker-config", required_argument, NULL, 'k' },
		{ "mode", required_argument, NULL, 'm' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = SIGILD_DEFAULT_CONFIG_FILE;
	bool config_is_default = true;
	const char *o_socket = NULL, *o_config_dir = NULL, *o_registry = NULL;
	const char *o_docker = NULL, *o_mode = NULL;
	sigild_config cfg;
	sigil_error err = SIGIL_ERROR_INIT;
	sigild_service *svc = NULL;
	sigild_server *srv = NULL;
	sigild_metrics_server *msrv = NULL;
	sigild_server_options sopts;
	sigset_t mask;
	int opt, sfd, rc = 1;

	log_to_journal = stderr_is_journal();
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; config_is_default = false; break;
		case 's': o_socket = optarg; break;
		case 'd': o_config_dir = optarg; break;
		case 'r': o_registry = optarg; break;
		case 'k': o_docker = optarg; break;
		case 'm': o_mode = optarg; break;
		case 'f': break;
		case 'l':
			if (strcmp(optarg, "error") == 0)
				log_threshold = SIGILD_LOG_ERR;
			else if (strcmp(optarg, "warning") == 0 || strcmp(optarg, "warn") == 0)
				log_threshold = SIGILD_LOG_WARN;
			else if (strcmp(optarg, "info") == 0)
				log_threshold = SIGILD_LOG_INFO;
			else if (strcmp(optarg, "debug") == 0)
				log_threshold = SIGILD_LOG_DEBUG;
			else {
				fprintf(stderr, "sigild: --log-level: unknown level \"%s\"\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sigild: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (sigild_config_load(&cfg, config_path, config_is_default, &err) != SIGIL_STATUS_OK) {
		log_msg(SIGILD_LOG_ERR, "configuration: %s", err.message); /* the message names the file */
		return 2;
	}
	if ((o_socket && !replace_str(&cfg.socket, o_socket)) ||
	    (o_config_dir && !replace_str(&cfg.config_dir, o_config_dir)) ||
	    (o_registry && !replace_str(&cfg.registry_config, o_registry)) ||
	    (o_docker && !replace_str(&cfg.docker_config, o_docker))) {
		log_msg(SIGILD_LOG_ERR, "out of memory");
		goto out_cfg;
	}
	if (o_mode) {
		if (strcmp(o_mode, "enforce") == 0)
			cfg.mode = SIGILD_MODE_ENFORCE;
		else if (strcmp(o_mode, "dry-run") == 0)
			cfg.mode = SIGILD_MODE_DRY_RUN;
		else {
			log_msg(SIGILD_LOG_ERR, "--mode: \"%s\" is neither enforce nor dry-run", o_mode);
			rc = 2;
			goto out_cfg;
		}
	}
	if (!cfg.socket || cfg.socket[0] == '\0' || !cfg.config_dir) {
		log_msg(SIGILD_LOG_ERR, "socket and configDir must not be empty");
		rc = 2;
		goto out_cfg;
	}

	/* Before any thread exists (the server's loop and workers), so
	 * every thread inherits the mask and only the signalfd sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0) {
		log_msg(SIGILD_LOG_ERR, "blocking signals failed");
		goto out_cfg;
	}
	/* A vanished client must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		log_msg(SIGILD_LOG_ERR, "signalfd: %s", strerror(errno));
		goto out_cfg;
	}

	if (sigild_service_new(&svc, &cfg, &err) != SIGIL_STATUS_OK) {
		log_msg(SIGILD_LOG_ERR, "loading the trust configuration from %s: %s: %s",
			cfg.config_dir, sigil_category_name(err.category), err.message);
		rc = 2;
		goto out_sfd;
	}

	memset(&sopts, 0, sizeof(sopts));
	sopts.socket_path = cfg.socket;
	sopts.workers = cfg.workers;
	sopts.verify_timeout_ms = cfg.verify_timeout_ms;
	sopts.log = log_msg;
	sopts.log_debug = log_threshold >= SIGILD_LOG_DEBUG;
	if (sigild_server_start(&srv, svc, &sopts, &err) != SIGIL_STATUS_OK) {
		log_msg(SIGILD_LOG_ERR, "%s", err.message);
		goto out_svc;
	}
	log_msg(SIGILD_LOG_INFO, "listening on %s (%zu workers, mode %s, configuration %s)",
		cfg.socket, cfg.workers, cfg.mode == SIGILD_MODE_DRY_RUN ? "dry-run" : "enforce",
		cfg.config_dir);
	/* started once the socket is served and stopped before it goes, so
	 * /readyz answers only while both hold; a failure to listen is logged
	 * but does not stop verification (metrics never break pulls) */
	if (cfg.metrics_listen && cfg.metrics_listen[0]) {
		if (sigild_metrics_server_start(&msrv, cfg.metrics_listen, sigild_service_metrics(svc),
			sigild_service_ready, svc, &err) != SIGIL_STATUS_OK)
			log_msg(SIGILD_LOG_ERR, "metrics: %s; continuing without them", err.message);
		else
			log_msg(SIGILD_LOG_INFO, "metrics on http://%s (port %u): /metrics /healthz /readyz",
				cfg.metrics_listen, (unsigned)sigild_metrics_server_port(msrv));
	}

	rc = run(svc, &cfg, sfd);
	sigild_metrics_server_stop(msrv);
	sigild_server_stop(srv, SHUTDOWN_GRACE_MS);
	log_msg(SIGILD_LOG_INFO, "stopped");
out_svc:
	sigild_service_free(svc);
out_sfd:
	close(sfd);
out_cfg:
	sigild_config_clear(&cfg);
	return rc;
}
