/* startup-bound.c - a program that does nothing, loaded with the same shared
 * libraries as `sigil`: it takes the address of one function of each
 * library the CLI names in its DT_NEEDED (so --as-needed keeps them) and calls none.
 * bench-cli.py checks with ldd that the two sets are equal before timing it.
 *
 * Why: on this machine process start-up is most of `sigil verify`'s cost
 * (bench/README.md, Findings, CLI). Timing this program against `notation
 * verify` in the same rounds gives the largest speed-up any `sigil verify`
 * built on these libraries could reach here, whatever its own code did:
 * notation's time divided by the time of doing nothing at all. */
#include <json-c/json.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <protobuf-c/protobuf-c.h>
#include <sigil/error.h>

typedef void (*any_fn)(void);

/* volatile: the compiler may not drop the references */
static any_fn volatile keep[] = {
	(any_fn)sigil_category_name, (any_fn)json_c_version, (any_fn)nghttp2_version,
	(any_fn)OpenSSL_version, (any_fn)protobuf_c_version,
};

int main(void)
{
	return keep[0] ? 0 : 1;
}
