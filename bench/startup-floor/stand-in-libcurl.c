/* stand-in-libcurl.c - MEASUREMENT ONLY, never shipped or installed: a
 * libcurl.so.4 with the 19 functions libsigil calls, speaking plain HTTP/1.1
 * (no TLS, no proxy, no auth, Connection: close) over libc alone. Loaded in
 * place of Debian's libcurl (run.sh links a copy of libsigil with a RUNPATH
 * to it), it shows what `sigil verify --plain-http` would cost if its HTTP
 * client did not pull in libcurl's 28-library dependency tree. Good enough
 * for docker-registry on 127.0.0.1, nothing else. */
#define _GNU_SOURCE
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <errno.h>

struct E { char *url; struct curl_slist *hdrs; curl_write_callback wf, hf; void *wd, *hd;
  int nobody; long status; char eff[2048]; int oserr; const char *post; long postlen; };
struct Curl_share { int x; };
struct Curl_URL { char scheme[16], host[256], port[16], path[1024], query[1024]; };

CURLcode curl_global_init(long f) { (void)f; return CURLE_OK; }
CURL *curl_easy_init(void) { return calloc(1, sizeof(struct E)); }
void curl_easy_cleanup(CURL *cv) { struct E *c = cv; if (c) { free(c->url); free(c); } }
const char *curl_easy_strerror(CURLcode c) { (void)c; return "fake curl error"; }
void curl_free(void *p) { free(p); }
CURLSH *curl_share_init(void) { return calloc(1, sizeof(struct Curl_share)); }
CURLSHcode curl_share_setopt(CURLSH *s, CURLSHoption o, ...) { (void)s; (void)o; return CURLSHE_OK; }
CURLSHcode curl_share_cleanup(CURLSH *s) { free(s); return CURLSHE_OK; }
struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s) {
  struct curl_slist *n = calloc(1, sizeof(*n)); n->data = strdup(s);
  if (!l)
    return n;
  struct curl_slist *t = l;
  while (t->next)
    t = t->next;
  t->next = n;
  return l; }
void curl_slist_free_all(struct curl_slist *l) { while (l) { struct curl_slist *n = l->next; free(l->data); free(l); l = n; } }
static curl_version_info_data vi = { .age = CURLVERSION_NOW, .version = "fake", .cainfo = NULL };
curl_version_info_data *curl_version_info(CURLversion v) { (void)v; return &vi; }
char *curl_easy_escape(CURL *c, const char *s, int len) { (void)c;
  size_t n = len ? (size_t)len : strlen(s); char *o = malloc(n * 3 + 1), *p = o;
  for (size_t i = 0; i < n; i++) { unsigned char ch = (unsigned char)s[i];
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("-._~", ch)) *p++ = (char)ch;
    else p += sprintf(p, "%%%02X", ch); }
  *p = 0; return o; }

static int parse(const char *url, struct Curl_URL *u) {
  memset(u, 0, sizeof(*u));
  const char *s = strstr(url, "://"); if (!s) return -1;
  snprintf(u->scheme, sizeof u->scheme, "%.*s", (int)(s - url), url); s += 3;
  const char *e = s + strcspn(s, "/?#"); const char *c = memchr(s, ':', (size_t)(e - s));
  if (c) { snprintf(u->host, sizeof u->host, "%.*s", (int)(c - s), s); snprintf(u->port, sizeof u->port, "%.*s", (int)(e - c - 1), c + 1); }
  else snprintf(u->host, sizeof u->host, "%.*s", (int)(e - s), s);
  const char *q = strchr(e, '?'); const char *f = strchr(e, '#');
  size_t pl = q ? (size_t)(q - e) : f ? (size_t)(f - e) : strlen(e);
  snprintf(u->path, sizeof u->path, "%.*s", (int)pl, e); if (!u->path[0]) snprintf(u->path, sizeof u->path, "/");
  if (q) snprintf(u->query, sizeof u->query, "%.*s", (int)(f ? (size_t)(f - q - 1) : strlen(q + 1)), q + 1);
  return 0; }
CURLU *curl_url(void) { return calloc(1, sizeof(struct Curl_URL)); }
void curl_url_cleanup(CURLU *u) { free(u); }
CURLUcode curl_url_set(CURLU *u, CURLUPart w, const char *p, unsigned int f) { (void)f;
  if (w == CURLUPART_URL)
    return parse(p, u) ? CURLUE_MALFORMED_INPUT : CURLUE_OK;
  return CURLUE_OK; }
CURLUcode curl_url_get(CURLU *u, CURLUPart w, char **o, unsigned int f) { (void)f; const char *v = NULL; char buf[2400];
  switch (w) { case CURLUPART_SCHEME: v = u->scheme; break; case CURLUPART_HOST: v = u->host; break;
  case CURLUPART_PORT: if (!u->port[0]) return CURLUE_NO_PORT; v = u->port; break; case CURLUPART_PATH: v = u->path; break;
  case CURLUPART_QUERY: if (!u->query[0]) return CURLUE_NO_QUERY; v = u->query; break;
  case CURLUPART_URL: snprintf(buf, sizeof buf, "%s://%s%s%s%s", u->scheme, u->host, u->port[0] ? ":" : "", u->port, u->path); v = buf; break;
  default: return CURLUE_UNKNOWN_PART; }
  *o = strdup(v); return CURLUE_OK; }

CURLcode curl_easy_setopt(CURL *cv, CURLoption o, ...) { struct E *c = cv; va_list ap; va_start(ap, o);
  switch (o) { case CURLOPT_URL: free(c->url); c->url = strdup(va_arg(ap, char *)); break;
  case CURLOPT_HTTPHEADER: c->hdrs = va_arg(ap, struct curl_slist *); break;
  case CURLOPT_WRITEFUNCTION: c->wf = va_arg(ap, curl_write_callback); break;
  case CURLOPT_HEADERFUNCTION: c->hf = va_arg(ap, curl_write_callback); break;
  case CURLOPT_WRITEDATA: c->wd = va_arg(ap, void *); break;
  case CURLOPT_HEADERDATA: c->hd = va_arg(ap, void *); break;
  case CURLOPT_NOBODY: c->nobody = (int)va_arg(ap, long); break;
  case CURLOPT_POSTFIELDS: c->post = va_arg(ap, const char *); break;
  default: break; }
  va_end(ap); return CURLE_OK; }
CURLcode curl_easy_getinfo(CURL *cv, CURLINFO i, ...) { struct E *c = cv; va_list ap; va_start(ap, i);
  if (i == CURLINFO_RESPONSE_CODE) *va_arg(ap, long *) = c->status;
  else if (i == CURLINFO_EFFECTIVE_URL) *va_arg(ap, char **) = c->eff;
  else if (i == CURLINFO_OS_ERRNO) *va_arg(ap, long *) = c->oserr;
  va_end(ap); return CURLE_OK; }

CURLcode curl_easy_perform(CURL *cv) { struct E *c = cv;
  struct Curl_URL u; if (parse(c->url, &u) || strcmp(u.scheme, "http")) return CURLE_UNSUPPORTED_PROTOCOL;
  snprintf(c->eff, sizeof c->eff, "%s", c->url);
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
  if (getaddrinfo(u.host, u.port[0] ? u.port : "80", &hints, &ai)) return CURLE_COULDNT_RESOLVE_HOST;
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (connect(fd, ai->ai_addr, ai->ai_addrlen)) { c->oserr = errno; freeaddrinfo(ai); close(fd); return CURLE_COULDNT_CONNECT; }
  freeaddrinfo(ai);
  char *req; size_t rl; FILE *m = open_memstream(&req, &rl);
  fprintf(m, "%s %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\nUser-Agent: sigil\r\nConnection: close\r\n", c->nobody ? "HEAD" : c->post ? "POST" : "GET",
    u.path, u.query[0] ? "?" : "", u.query, u.host, u.port[0] ? ":" : "", u.port);
  for (struct curl_slist *h = c->hdrs; h; h = h->next) fprintf(m, "%s\r\n", h->data);
  fprintf(m, "\r\n"); fclose(m);
  if (write(fd, req, rl) != (ssize_t)rl) { free(req); close(fd); return CURLE_SEND_ERROR; } free(req);
  size_t cap = 65536, len = 0; char *buf = malloc(cap); ssize_t n;
  while ((n = read(fd, buf + len, cap - len)) > 0) { len += (size_t)n; if (len == cap) buf = realloc(buf, cap *= 2); }
  close(fd);
  char *he = memmem(buf, len, "\r\n\r\n", 4); if (!he) { free(buf); return CURLE_GOT_NOTHING; }
  int chunked = 0; char *p = buf;
  while (p < he + 2) { char *eol = memmem(p, (size_t)(he + 2 - p), "\r\n", 2); size_t ll = (size_t)(eol - p) + 2;
    if (p == buf) c->status = strtol(p + 9, NULL, 10);
    if (!strncasecmp(p, "transfer-encoding: chunked", 26)) chunked = 1;
    if (c->hf && c->hf(p, 1, ll, c->hd) != ll) { free(buf); return CURLE_WRITE_ERROR; }
    p = eol + 2; }
  if (c->hf) c->hf((char *)"\r\n", 1, 2, c->hd);
  char *b = he + 4; size_t bl = len - (size_t)(b - buf);
  if (c->nobody) bl = 0;
  if (chunked) { char *o = b, *q = b, *end = b + bl;
    while (q < end) { size_t cl = strtoul(q, NULL, 16); q = strstr(q, "\r\n") + 2; if (!cl) break; memmove(o, q, cl); o += cl; q += cl + 2; }
    bl = (size_t)(o - b); }
  if (bl && c->wf && c->wf(b, 1, bl, c->wd) != bl) { free(buf); return CURLE_WRITE_ERROR; }
  free(buf); return CURLE_OK; }
